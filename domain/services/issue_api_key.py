"""IssueApiKey: mint a key for an existing user; the plaintext leaves exactly once."""

from __future__ import annotations

from datetime import datetime

import msgspec

from domain import not_found
from domain.api_keys import ApiKey, NewApiKey, compose_key, display_parts, hash_key
from domain.audit import API_KEY_CREATED, AuditEvent
from domain.errors import InvalidInput
from ports.clock import Clock
from ports.ids import IdGenerator
from ports.uow import UnitOfWork, UnitOfWorkFactory


class IssuedKey(msgspec.Struct, frozen=True, kw_only=True):
    key: ApiKey
    plaintext: str


class IssueApiKey:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, ids: IdGenerator, key_secret: bytes) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._secret = key_secret

    async def __call__(self, user_id: int, *, name: str = "default", environment: str = "live",
                       expires_at: datetime | None = None) -> IssuedKey:
        async with self._uow() as uow:
            if await uow.users.get(user_id) is None:
                raise not_found.user(user_id)
            issued = await self.within(uow, user_id, name=name, environment=environment, expires_at=expires_at)
            await uow.commit()
        return issued

    async def within(self, uow: UnitOfWork, user_id: int, *, name: str = "default",
                     environment: str = "live", expires_at: datetime | None = None) -> IssuedKey:
        """Mint inside a caller's unit of work (user creation issues the first key atomically)."""
        if not name or len(name) > 100:
            raise InvalidInput("name must be 1-100 characters", field="name")
        plaintext = compose_key(self._ids.key_body())
        prefix, last4 = display_parts(plaintext)
        now = self._clock.now()
        key = await uow.api_keys.add(NewApiKey(
            user_id=user_id, key_hash=hash_key(self._secret, plaintext), prefix=prefix, last4=last4,
            name=name, environment=environment, expires_at=expires_at,
        ), now=now)
        await uow.audit.record(AuditEvent(
            event_type=API_KEY_CREATED, created_at=now, user_id=user_id, api_key_id=key.id,
            details={"name": name},
        ))
        return IssuedKey(key=key, plaintext=plaintext)
