"""Persistence of users, their API keys and their password reset tokens."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol

from domain.accounts import NewUser, ProfileChanges, User
from domain.api_keys import ApiKey, NewApiKey, Principal
from domain.password_resets import ResetToken


class UserRepository(Protocol):
    async def add(self, new: NewUser, *, now: datetime) -> User:
        """Raises Conflict with code `email_taken`, `username_taken`, `privy_taken` or
        `referral_code_taken` when a unique index refuses the row; the unit of work stays usable."""
        ...

    async def get(self, user_id: int) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None:
        """Case-insensitive."""
        ...

    async def get_by_username(self, username: str) -> User | None:
        """Case-insensitive."""
        ...

    async def get_by_privy_id(self, privy_user_id: str) -> User | None: ...

    async def get_by_referral_code(self, code: str) -> User | None:
        """Case-insensitive."""
        ...

    async def password_hash(self, user_id: int) -> str | None: ...

    async def set_password_hash(self, user_id: int, password_hash: str, *, now: datetime) -> None: ...

    async def link_privy(self, user_id: int, privy_user_id: str, *, now: datetime) -> bool:
        """Only a user without a Privy id is linked; False otherwise."""
        ...

    async def update_profile(self, user_id: int, changes: ProfileChanges, *, now: datetime) -> User:
        """Raises Conflict (`email_taken`, `username_taken`) like add."""
        ...

    async def convert_trial(self, user_id: int, *, now: datetime) -> bool:
        """trial -> active with trial_converted_at; False when the user was not in an open trial."""
        ...

    async def mark_welcome_sent(self, user_id: int) -> None: ...

    async def erase(self, user_id: int, *, now: datetime) -> None:
        """Drop the person, keep the money trail: their chat sessions, messages and feedback deleted,
        anonymised email/username, identity cleared, deactivated, deleted_at set. (The memory twin holds
        no chat data: the memory chat store lives outside the unit of work.)"""
        ...

    async def count_active_admins(self) -> int: ...

    async def get_for_update(self, user_id: int) -> User | None:
        """Read the row and lock it until the unit of work ends (balance changes serialise here)."""
        ...

    async def set_balances(self, user_id: int, *, subscription_allowance: Decimal,
                           purchased_credits: Decimal, now: datetime) -> None: ...

    async def list(self, *, limit: int, offset: int, email: str | None = None,
                   is_active: bool | None = None) -> list[User]:
        """Newest first; `email` is a case-insensitive substring filter."""
        ...

    async def count(self, *, email: str | None = None, is_active: bool | None = None) -> int: ...


class ApiKeyRepository(Protocol):
    async def add(self, new: NewApiKey, *, now: datetime) -> ApiKey: ...

    async def get(self, key_id: int) -> ApiKey | None: ...

    async def list_for_user(self, user_id: int) -> list[ApiKey]:
        """Oldest first."""
        ...

    async def deactivate(self, key_id: int, *, now: datetime | None = None) -> bool:
        """Revoke (is_active false, revoked_at set); False when there was no such active key."""
        ...

    async def rotate(self, key_id: int, *, key_hash: str, prefix: str, last4: str,
                     previous_valid_until: datetime | None, now: datetime) -> ApiKey | None:
        """A new secret for the key; the old digest stays valid until previous_valid_until (None: not at all)."""
        ...


class ResetTokenRepository(Protocol):
    async def add(self, *, user_id: int, token_hash: str, expires_at: datetime, now: datetime,
                  requester_ip: str | None) -> None: ...

    async def invalidate_for_user(self, user_id: int, *, now: datetime) -> None:
        """Mark every unused token of the user used."""
        ...

    async def consume(self, token_hash: str, *, now: datetime) -> int | None:
        """In one statement: mark the token used if it is unused and unexpired; the user id, or None."""
        ...

    async def find(self, token_hash: str) -> ResetToken | None: ...

    async def delete_for_user(self, user_id: int) -> None: ...


class KeyDirectory(Protocol):
    """The read side of authentication: digest -> key and owner, in one lookup. A key in a rotation's
    grace is also found by its previous digest (the caller checks previous_valid_until)."""

    async def find(self, key_hash: str) -> Principal | None: ...
