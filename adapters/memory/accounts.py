"""Memory twins of the account ports."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import msgspec

from adapters.memory.store import MemoryStore
from domain.accounts import NewUser, ProfileChanges, Role, SubscriptionStatus, User, new_referral_code
from domain.api_keys import ApiKey, NewApiKey, Principal
from domain.errors import Conflict
from domain.password_resets import ResetToken


class MemoryUserRepository:
    def __init__(self, store: MemoryStore) -> None:
        self._s = store

    def _check_unique(self, user_id: int | None, *, email: str | None = None, username: str | None = None,
                      privy_user_id: str | None = None, referral_code: str | None = None) -> None:
        for u in self._s.users.values():
            if u.id == user_id:
                continue
            if email is not None and u.email.lower() == email.lower():
                raise Conflict("User with this email already exists", code="email_taken")
            if username is not None and u.username.lower() == username.lower():
                raise Conflict("Username already taken", code="username_taken")
            if privy_user_id is not None and u.privy_user_id == privy_user_id:
                raise Conflict("Privy account already linked", code="privy_taken")
            if referral_code is not None and u.referral_code == referral_code:
                raise Conflict("Referral code taken", code="referral_code_taken")

    async def add(self, new: NewUser, *, now: datetime) -> User:
        code = new.referral_code or new_referral_code()
        self._check_unique(None, email=new.email, username=new.username, privy_user_id=new.privy_user_id,
                           referral_code=code)
        user = User(id=self._s.next_id("users"), email=new.email, username=new.username, role=new.role,
                    created_at=now, updated_at=now, privy_user_id=new.privy_user_id,
                    display_name=new.display_name, phone_number=new.phone_number, auth_method=new.auth_method,
                    has_password=new.password_hash is not None, subscription_status=new.subscription_status,
                    trial_started_at=new.trial_started_at, trial_expires_at=new.trial_expires_at,
                    trial_credits=new.trial_credits, referral_code=code, referred_by_code=new.referred_by_code)
        self._s.users[user.id] = user
        if new.password_hash is not None:
            self._s.password_hashes[user.id] = new.password_hash
        return user

    async def get(self, user_id: int) -> User | None:
        return self._s.users.get(user_id)

    async def get_by_email(self, email: str) -> User | None:
        email = email.strip().lower()
        return next((u for u in self._s.users.values() if u.email.lower() == email), None)

    async def get_by_username(self, username: str) -> User | None:
        username = username.strip().lower()
        return next((u for u in self._s.users.values() if u.username.lower() == username), None)

    async def get_by_privy_id(self, privy_user_id: str) -> User | None:
        return next((u for u in self._s.users.values() if u.privy_user_id == privy_user_id), None)

    async def get_by_referral_code(self, code: str) -> User | None:
        code = code.strip().upper()
        return next((u for u in self._s.users.values() if u.referral_code == code), None)

    async def password_hash(self, user_id: int) -> str | None:
        return self._s.password_hashes.get(user_id)

    def _replace(self, user_id: int, **changes: object) -> User:
        user = msgspec.structs.replace(self._s.users[user_id], **changes)
        self._s.users[user_id] = user
        return user

    async def set_password_hash(self, user_id: int, password_hash: str, *, now: datetime) -> None:
        self._s.password_hashes[user_id] = password_hash
        self._replace(user_id, has_password=True, updated_at=now)

    async def link_privy(self, user_id: int, privy_user_id: str, *, now: datetime) -> bool:
        user = self._s.users.get(user_id)
        if user is None or user.privy_user_id is not None:
            return False
        self._check_unique(user_id, privy_user_id=privy_user_id)
        self._replace(user_id, privy_user_id=privy_user_id, updated_at=now)
        return True

    async def update_profile(self, user_id: int, changes: ProfileChanges, *, now: datetime) -> User:
        self._check_unique(user_id, email=changes.email, username=changes.username)
        user = self._s.users[user_id]
        values: dict[str, object] = {"updated_at": now}
        for name in ("username", "display_name", "email"):
            if getattr(changes, name) is not None:
                values[name] = getattr(changes, name)
        if changes.preferences is not None:
            values["preferences"] = {**user.preferences, **changes.preferences}
        return self._replace(user_id, **values)

    async def convert_trial(self, user_id: int, *, now: datetime) -> bool:
        user = self._s.users.get(user_id)
        if user is None or user.subscription_status != SubscriptionStatus.TRIAL.value \
                or user.trial_converted_at is not None:
            return False
        self._replace(user_id, subscription_status=SubscriptionStatus.ACTIVE.value, trial_converted_at=now,
                      updated_at=now)
        return True

    async def mark_welcome_sent(self, user_id: int) -> None:
        if user_id in self._s.users:
            self._replace(user_id, welcome_email_sent=True)

    async def erase(self, user_id: int, *, now: datetime) -> None:
        self._s.password_hashes.pop(user_id, None)
        self._replace(user_id, email=f"deleted-{user_id}@invalid", username=f"deleted-{user_id}",
                      display_name=None, phone_number=None, privy_user_id=None, has_password=False,
                      is_active=False, deleted_at=now, preferences={}, updated_at=now)

    async def count_active_admins(self) -> int:
        return sum(1 for u in self._s.users.values() if u.role is Role.ADMIN and u.is_active)

    async def get_for_update(self, user_id: int) -> User | None:
        return self._s.users.get(user_id)

    async def set_balances(self, user_id: int, *, subscription_allowance: Decimal,
                           purchased_credits: Decimal, now: datetime) -> None:
        self._replace(user_id, subscription_allowance=subscription_allowance,
                      purchased_credits=purchased_credits, updated_at=now)

    def _matching(self, email: str | None, is_active: bool | None) -> list[User]:
        return [u for u in self._s.users.values()
                if (not email or email.lower() in u.email.lower())
                and (is_active is None or u.is_active == is_active)]

    async def list(self, *, limit: int, offset: int, email: str | None = None,
                   is_active: bool | None = None) -> list[User]:
        rows = sorted(self._matching(email, is_active), key=lambda u: (u.created_at, u.id), reverse=True)
        return rows[offset:offset + limit]

    async def count(self, *, email: str | None = None, is_active: bool | None = None) -> int:
        return len(self._matching(email, is_active))


class MemoryApiKeyRepository:
    def __init__(self, store: MemoryStore) -> None:
        self._s = store

    async def add(self, new: NewApiKey, *, now: datetime) -> ApiKey:
        if any(new.key_hash in (k.key_hash, k.previous_key_hash) for k in self._s.api_keys.values()):
            raise Conflict("duplicate key hash")
        key = ApiKey(id=self._s.next_id("api_keys"), user_id=new.user_id, key_hash=new.key_hash,
                     prefix=new.prefix, last4=new.last4, name=new.name, environment=new.environment,
                     expires_at=new.expires_at, created_at=now, kind=new.kind, is_primary=new.is_primary,
                     scopes=new.scopes, ip_allowlist=new.ip_allowlist, domain_referrers=new.domain_referrers)
        self._s.api_keys[key.id] = key
        return key

    async def get(self, key_id: int) -> ApiKey | None:
        return self._s.api_keys.get(key_id)

    async def list_for_user(self, user_id: int) -> list[ApiKey]:
        return sorted((k for k in self._s.api_keys.values() if k.user_id == user_id), key=lambda k: k.id)

    async def deactivate(self, key_id: int, *, now: datetime | None = None) -> bool:
        key = self._s.api_keys.get(key_id)
        if key is None or not key.is_active:
            return False
        self._s.api_keys[key_id] = msgspec.structs.replace(
            key, is_active=False, previous_key_hash=None, previous_valid_until=None,
            revoked_at=now if now is not None else key.revoked_at)
        return True

    async def rotate(self, key_id: int, *, key_hash: str, prefix: str, last4: str,
                     previous_valid_until: datetime | None, now: datetime) -> ApiKey | None:
        key = self._s.api_keys.get(key_id)
        if key is None or not key.is_active:
            return None
        rotated = msgspec.structs.replace(
            key, key_hash=key_hash, prefix=prefix, last4=last4, rotated_at=now,
            previous_key_hash=key.key_hash if previous_valid_until is not None else None,
            previous_valid_until=previous_valid_until)
        self._s.api_keys[key_id] = rotated
        return rotated


class MemoryResetTokenRepository:
    def __init__(self, store: MemoryStore) -> None:
        self._s = store

    async def add(self, *, user_id: int, token_hash: str, expires_at: datetime, now: datetime,
                  requester_ip: str | None) -> None:
        if token_hash in self._s.reset_tokens:
            raise Conflict("duplicate reset token")
        self._s.reset_tokens[token_hash] = ResetToken(
            id=self._s.next_id("password_reset_tokens"), user_id=user_id, token_hash=token_hash,
            expires_at=expires_at, used_at=None, created_at=now)

    async def invalidate_for_user(self, user_id: int, *, now: datetime) -> None:
        for h, t in list(self._s.reset_tokens.items()):
            if t.user_id == user_id and t.used_at is None:
                self._s.reset_tokens[h] = msgspec.structs.replace(t, used_at=now)

    async def consume(self, token_hash: str, *, now: datetime) -> int | None:
        t = self._s.reset_tokens.get(token_hash)
        if t is None or t.used_at is not None or t.expires_at <= now:
            return None
        self._s.reset_tokens[token_hash] = msgspec.structs.replace(t, used_at=now)
        return t.user_id

    async def find(self, token_hash: str) -> ResetToken | None:
        return self._s.reset_tokens.get(token_hash)

    async def delete_for_user(self, user_id: int) -> None:
        for h, t in list(self._s.reset_tokens.items()):
            if t.user_id == user_id:
                del self._s.reset_tokens[h]


class MemoryKeyDirectory:
    def __init__(self, store: MemoryStore) -> None:
        self._s = store

    async def find(self, key_hash: str) -> Principal | None:
        key = next((k for k in self._s.api_keys.values() if key_hash in (k.key_hash, k.previous_key_hash)), None)
        if key is None or key.user_id not in self._s.users:
            return None
        return Principal(key=key, user=self._s.users[key.user_id])
