"""A user's own keys (account scope): list, create, rotate with grace, revoke. Another user's key id
is the same 404 as a missing one; every change is broadcast before it is acknowledged."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from domain import not_found
from domain.accounts import AccountPolicy
from domain.api_keys import ALL_SCOPES, ApiKey, KeyKind
from domain.audit import API_KEY_REVOKED, API_KEY_ROTATED, AuditEvent
from domain.errors import AccountRefused, Conflict
from domain.invalidation import KEYS_TOPIC
from domain.services.issue_api_key import IssueApiKey, IssuedKey, KeyOptions
from ports.bus import CacheBus
from ports.clock import Clock
from ports.uow import UnitOfWork, UnitOfWorkFactory

LAST_WAY_IN = "Cannot revoke your only way to sign in; create another key first"


class RotatedKey(msgspec.Struct, frozen=True, kw_only=True):
    key: ApiKey
    plaintext: str
    previous_valid_until: datetime | None


async def _own(uow: UnitOfWork, user_id: int, key_id: int) -> ApiKey:
    key = await uow.api_keys.get(key_id)
    if key is None or key.user_id != user_id:
        raise not_found.api_key()
    return key


class ListOwnKeys:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, user_id: int, *, include_revoked: bool = False) -> list[ApiKey]:
        async with self._uow() as uow:
            keys = await uow.api_keys.list_for_user(user_id)
        return [k for k in keys if include_revoked or k.is_active]


class CreateOwnKey:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, issue_key: IssueApiKey, policy: AccountPolicy) -> None:
        self._uow = uow
        self._clock = clock
        self._issue_key = issue_key
        self._policy = policy

    async def __call__(self, user_id: int, *, name: str = "API Key", environment: str = "live",
                       scopes: tuple[str, ...] = ALL_SCOPES, expires_in_days: int | None = None,
                       ip_allowlist: tuple[str, ...] = (), domain_referrers: tuple[str, ...] = ()) -> IssuedKey:
        now = self._clock.now()
        async with self._uow() as uow:
            await uow.users.get_for_update(user_id)  # concurrent creations count one after the other
            active = [k for k in await uow.api_keys.list_for_user(user_id)
                      if k.kind == KeyKind.STANDARD.value and k.usable_at(now)]
            if len(active) >= self._policy.max_keys_per_user:
                raise AccountRefused(f"Maximum of {self._policy.max_keys_per_user} active API keys reached")
            issued = await self._issue_key.within(uow, user_id, options=KeyOptions(
                name=name, environment=environment, scopes=tuple(s for s in ALL_SCOPES if s in scopes),
                expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
                ip_allowlist=ip_allowlist, domain_referrers=domain_referrers), by="user", now=now)
            await uow.commit()
        return issued


class RotateOwnKey:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, issue_key: IssueApiKey, bus: CacheBus) -> None:
        self._uow = uow
        self._clock = clock
        self._issue_key = issue_key
        self._bus = bus

    async def __call__(self, user_id: int, key_id: int, *, grace_seconds: int = 0) -> RotatedKey:
        now = self._clock.now()
        async with self._uow() as uow:
            key = await _own(uow, user_id, key_id)
            if not key.usable_at(now):
                raise not_found.api_key()
            plaintext, key_hash, prefix, last4 = self._issue_key.secret(key.environment)
            until = now + timedelta(seconds=grace_seconds) if grace_seconds > 0 else None
            rotated = await uow.api_keys.rotate(key_id, key_hash=key_hash, prefix=prefix, last4=last4,
                                                previous_valid_until=until, now=now)
            if rotated is None:
                raise not_found.api_key()
            await uow.audit.record(AuditEvent(event_type=API_KEY_ROTATED, created_at=now, user_id=user_id,
                                              api_key_id=key_id, details={"grace_seconds": grace_seconds}))
            await uow.commit()
        await self._bus.publish(KEYS_TOPIC, key.key_hash)  # every process re-reads the old secret's state
        if key.previous_key_hash:
            await self._bus.publish(KEYS_TOPIC, key.previous_key_hash)
        return RotatedKey(key=rotated, plaintext=plaintext, previous_valid_until=until)


class RevokeOwnKey:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, bus: CacheBus) -> None:
        self._uow = uow
        self._clock = clock
        self._bus = bus

    async def __call__(self, user_id: int, key_id: int) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            user = await uow.users.get_for_update(user_id)
            key = await _own(uow, user_id, key_id)
            if not key.is_active:
                raise not_found.api_key()
            others = [k for k in await uow.api_keys.list_for_user(user_id)
                      if k.id != key_id and k.kind == KeyKind.STANDARD.value and k.usable_at(now)]
            if (key.kind == KeyKind.STANDARD.value and not others and user is not None
                    and not user.has_password and user.privy_user_id is None):
                raise Conflict(LAST_WAY_IN, code="last_way_in")
            await uow.api_keys.deactivate(key_id, now=now)
            await uow.audit.record(AuditEvent(event_type=API_KEY_REVOKED, created_at=now, user_id=user_id,
                                              api_key_id=key_id, details={"by": "user"}))
            await uow.commit()
        for key_hash in (key.key_hash, key.previous_key_hash):
            if key_hash:
                await self._bus.publish(KEYS_TOPIC, key_hash)
