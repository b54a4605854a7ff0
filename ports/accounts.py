"""Persistence of users and their API keys."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol

from domain.accounts import NewUser, User
from domain.api_keys import ApiKey, NewApiKey, Principal


class UserRepository(Protocol):
    async def add(self, new: NewUser, *, now: datetime) -> User: ...

    async def get(self, user_id: int) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None: ...

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

    async def list_for_user(self, user_id: int) -> list[ApiKey]: ...

    async def deactivate(self, key_id: int) -> bool:
        """Revoke; False when there was no such key."""
        ...


class KeyDirectory(Protocol):
    """The read side of authentication: digest -> key and owner, in one lookup."""

    async def find(self, key_hash: str) -> Principal | None: ...
