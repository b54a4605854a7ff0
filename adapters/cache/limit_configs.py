"""Per-key limit overrides cached in-process, dropped by broadcast so that `POST /admin/limit` holds
for the next request in every process (the seed's cache went stale until #1627 cleared it)."""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import datetime

from domain.errors import ServiceUnavailable
from domain.invalidation import ALL, LIMITS_TOPIC
from domain.limits import KeyLimits
from ports.bus import CacheBus
from ports.limits import LimitConfigRepository


class CachedLimitConfigs:
    """Absent rows are cached too (most keys have none). The TTL is a safety net for a lost broadcast;
    the broadcast is the invalidation path. A lost database serves the last known row (stale-if-error)."""

    def __init__(self, inner: LimitConfigRepository, bus: CacheBus, *, ttl_s: float = 60.0,
                 max_entries: int = 100_000, stale_for_s: float = 600.0) -> None:
        self._inner = inner
        self._ttl = ttl_s
        self._stale_for = stale_for_s
        self._max = max_entries
        self._entries: OrderedDict[int, tuple[float, KeyLimits | None]] = OrderedDict()
        self._generation = 0  # bumped by every drop: a read that raced one is not cached
        bus.subscribe(LIMITS_TOPIC, self._drop)

    async def get(self, api_key_id: int) -> KeyLimits | None:
        now = time.monotonic()
        hit = self._entries.get(api_key_id)
        if hit is not None and now - hit[0] < self._ttl:
            self._entries.move_to_end(api_key_id)
            return hit[1]
        generation = self._generation
        try:
            limits = await self._inner.get(api_key_id)
        except ServiceUnavailable:
            if hit is not None and now - hit[0] < self._stale_for:
                return hit[1]
            raise
        if generation != self._generation:
            return limits
        self._entries[api_key_id] = (now, limits)
        self._entries.move_to_end(api_key_id)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return limits

    async def put(self, api_key_id: int, limits: KeyLimits, *, now: datetime) -> KeyLimits:
        stored = await self._inner.put(api_key_id, limits, now=now)
        self._drop(str(api_key_id))
        return stored

    def _drop(self, message: str) -> None:
        self._generation += 1
        if message == ALL:
            self._entries.clear()
        elif message.isdigit():
            self._entries.pop(int(message), None)

    def __len__(self) -> int:
        return len(self._entries)
