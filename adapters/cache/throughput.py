"""The throughput gate's input, cached: the (model, provider) usage counts are one GROUP BY over the
whole request log, recomputed at most every 60 seconds per process (the seed ran one query per
model on every request)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from domain.throughput import GATE_TTL_S, Throughput, UsagePair
from ports.chat_history import ThroughputStore
from ports.clock import Clock


class CachedUsagePairs:
    def __init__(self, store: ThroughputStore, clock: Clock, *, ttl_s: float = GATE_TTL_S) -> None:
        self._store = store
        self._clock = clock
        self._ttl = ttl_s
        self._pairs: list[UsagePair] | None = None
        self._at = 0.0
        self._lock = asyncio.Lock()

    async def usage_pairs(self) -> list[UsagePair]:
        async with self._lock:  # one refresh at a time: concurrent callers share its result
            if self._pairs is None or self._clock.monotonic() - self._at >= self._ttl:
                self._pairs = await self._store.usage_pairs()
                self._at = self._clock.monotonic()
            return self._pairs

    async def throughput(self, model_id: int, provider: str, *, since: datetime | None) -> Throughput | None:
        return await self._store.throughput(model_id, provider, since=since)

    async def model_number(self, model: str) -> int | None:
        return await self._store.model_number(model)
