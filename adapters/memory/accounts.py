"""Memory twins of the account ports."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import msgspec

from adapters.memory.store import MemoryStore
from domain.accounts import NewUser, User
from domain.api_keys import ApiKey, NewApiKey, Principal
from domain.errors import Conflict


class MemoryUserRepository:
    def __init__(self, store: MemoryStore) -> None:
        self._s = store

    async def add(self, new: NewUser, *, now: datetime) -> User:
        if any(u.email == new.email for u in self._s.users.values()):
            raise Conflict(f"A user with email {new.email} already exists")
        user = User(id=self._s.next_id("users"), email=new.email, username=new.username, role=new.role,
                    created_at=now, updated_at=now)
        self._s.users[user.id] = user
        return user

    async def get(self, user_id: int) -> User | None:
        return self._s.users.get(user_id)

    async def get_by_email(self, email: str) -> User | None:
        return next((u for u in self._s.users.values() if u.email == email), None)

    async def get_for_update(self, user_id: int) -> User | None:
        return self._s.users.get(user_id)

    async def set_balances(self, user_id: int, *, subscription_allowance: Decimal,
                           purchased_credits: Decimal, now: datetime) -> None:
        self._s.users[user_id] = msgspec.structs.replace(
            self._s.users[user_id], subscription_allowance=subscription_allowance,
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
        if any(k.key_hash == new.key_hash for k in self._s.api_keys.values()):
            raise Conflict("duplicate key hash")
        key = ApiKey(id=self._s.next_id("api_keys"), user_id=new.user_id, key_hash=new.key_hash,
                     prefix=new.prefix, last4=new.last4, name=new.name, environment=new.environment,
                     expires_at=new.expires_at, created_at=now)
        self._s.api_keys[key.id] = key
        return key

    async def get(self, key_id: int) -> ApiKey | None:
        return self._s.api_keys.get(key_id)

    async def list_for_user(self, user_id: int) -> list[ApiKey]:
        return sorted((k for k in self._s.api_keys.values() if k.user_id == user_id), key=lambda k: k.id)

    async def deactivate(self, key_id: int) -> bool:
        key = self._s.api_keys.get(key_id)
        if key is None:
            return False
        self._s.api_keys[key_id] = msgspec.structs.replace(key, is_active=False)
        return True


class MemoryKeyDirectory:
    def __init__(self, store: MemoryStore) -> None:
        self._s = store

    async def find(self, key_hash: str) -> Principal | None:
        key = next((k for k in self._s.api_keys.values() if k.key_hash == key_hash), None)
        if key is None or key.user_id not in self._s.users:
            return None
        return Principal(key=key, user=self._s.users[key.user_id])
