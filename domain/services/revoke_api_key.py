"""RevokeApiKey: deactivate a key and tell every process to forget it at once."""

from __future__ import annotations

from domain import not_found
from domain.audit import API_KEY_REVOKED, AuditEvent
from domain.invalidation import KEYS_TOPIC
from ports.bus import CacheBus
from ports.clock import Clock
from ports.uow import UnitOfWorkFactory


class RevokeApiKey:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, bus: CacheBus) -> None:
        self._uow = uow
        self._clock = clock
        self._bus = bus

    async def __call__(self, key_id: int, *, revoked_by: str = "cli") -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            key = await uow.api_keys.get(key_id)
            if key is None or not await uow.api_keys.deactivate(key_id, now=now):
                raise not_found.api_key(key_id)
            await uow.audit.record(AuditEvent(
                event_type=API_KEY_REVOKED, created_at=now, user_id=key.user_id,
                api_key_id=key_id, details={"by": revoked_by},
            ))
            await uow.commit()
        for key_hash in (key.key_hash, key.previous_key_hash):  # a key in a rotation's grace has two
            if key_hash:
                await self._bus.publish(KEYS_TOPIC, key_hash)
