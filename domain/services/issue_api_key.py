"""IssueApiKey: mint a key for an existing user; the plaintext leaves exactly once.

Login keys are capped per user: issuing one more than LOGIN_KEYS_PER_USER revokes the oldest, so
each browser keeps working until then and devices never revoke each other back and forth."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from domain import not_found
from domain.api_keys import (
    ALL_SCOPES,
    ApiKey,
    KeyKind,
    NewApiKey,
    compose_key,
    display_parts,
    hash_key,
)
from domain.audit import API_KEY_CREATED, API_KEY_REVOKED, AuditEvent
from domain.errors import InvalidInput
from ports.clock import Clock
from ports.ids import IdGenerator
from ports.uow import UnitOfWork, UnitOfWorkFactory


class IssuedKey(msgspec.Struct, frozen=True, kw_only=True):
    key: ApiKey
    plaintext: str
    revoked_hashes: tuple[str, ...] = ()  # login keys this issue pushed out: broadcast after commit


class KeyOptions(msgspec.Struct, frozen=True, kw_only=True):
    name: str = "default"
    environment: str = "live"
    expires_at: datetime | None = None
    kind: str = KeyKind.STANDARD.value
    is_primary: bool = False
    scopes: tuple[str, ...] = ALL_SCOPES
    ip_allowlist: tuple[str, ...] = ()
    domain_referrers: tuple[str, ...] = ()


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

    def secret(self, environment: str) -> tuple[str, str, str, str]:
        """A fresh plaintext and what is stored of it: (plaintext, hash, prefix, last4)."""
        plaintext = compose_key(self._ids.key_body(), environment)
        prefix, last4 = display_parts(plaintext)
        return plaintext, hash_key(self._secret, plaintext), prefix, last4

    async def within(self, uow: UnitOfWork, user_id: int, *, name: str = "default",
                     environment: str = "live", expires_at: datetime | None = None,
                     options: KeyOptions | None = None, by: str | None = None,
                     now: datetime | None = None) -> IssuedKey:
        """Mint inside a caller's unit of work (user creation issues the first key atomically)."""
        opts = options or KeyOptions(name=name, environment=environment, expires_at=expires_at)
        if not opts.name or len(opts.name) > 100:
            raise InvalidInput("name must be 1-100 characters", field="name")
        plaintext, key_hash, prefix, last4 = self.secret(opts.environment)
        now = now or self._clock.now()
        key = await uow.api_keys.add(NewApiKey(
            user_id=user_id, key_hash=key_hash, prefix=prefix, last4=last4, name=opts.name,
            environment=opts.environment, expires_at=opts.expires_at, kind=opts.kind, is_primary=opts.is_primary,
            scopes=opts.scopes, ip_allowlist=opts.ip_allowlist, domain_referrers=opts.domain_referrers,
        ), now=now)
        details: dict[str, object] = {"name": opts.name, "kind": opts.kind}
        if by:
            details["by"] = by
        await uow.audit.record(AuditEvent(
            event_type=API_KEY_CREATED, created_at=now, user_id=user_id, api_key_id=key.id, details=details))
        return IssuedKey(key=key, plaintext=plaintext)

    async def login_key(self, uow: UnitOfWork, user_id: int, *, method: str, environment: str,
                        ttl_days: int, keep: int) -> IssuedKey:
        """A new login key (both scopes, expiring); the oldest active login keys beyond `keep` are revoked."""
        now = self._clock.now()
        active = [k for k in await uow.api_keys.list_for_user(user_id)
                  if k.kind == KeyKind.LOGIN.value and k.usable_at(now)]
        revoked = []
        for old in active[: max(0, len(active) - (keep - 1))]:
            if await uow.api_keys.deactivate(old.id, now=now):
                revoked.append(old.key_hash)
                await uow.audit.record(AuditEvent(
                    event_type=API_KEY_REVOKED, created_at=now, user_id=user_id, api_key_id=old.id,
                    details={"by": "login_key_limit"}))
        issued = await self.within(uow, user_id, options=KeyOptions(
            name=f"Login ({method}) {now:%Y-%m-%d}", environment=environment, kind=KeyKind.LOGIN.value,
            expires_at=now + timedelta(days=ttl_days)), by=method, now=now)
        return msgspec.structs.replace(issued, revoked_hashes=tuple(revoked))
