"""Memory twins of the response cache (LRU-bounded, one process) and of its analytics figures."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from domain.requests import RequestRecord
from domain.response_cache import ACTUAL_COST_KEY, HIT_KEY
from ports.clock import Clock
from ports.response_cache import CacheUsage


class MemoryResponseCache:
    """At most `max_entries`; the least recently used goes first, an expired entry is a miss."""

    def __init__(self, clock: Clock, max_entries: int = 10_000) -> None:
        self._clock = clock
        self._max = max_entries
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if self._clock.monotonic() >= expires:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    async def put(self, key: str, value: bytes, ttl_s: float) -> None:
        self._entries[key] = (self._clock.monotonic() + ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class MemoryCacheUsageStore:
    """Reads the memory request log's rows, as the SQL adapter reads chat_completion_requests."""

    def __init__(self, records: Mapping[str, RequestRecord]) -> None:
        self._records = records

    async def cache_usage(self, user_id: int, since: datetime) -> list[CacheUsage]:
        groups: dict[tuple[str, str | None], tuple[int, int, Decimal]] = {}
        for r in self._records.values():
            if r.user_id != user_id or r.status != "completed" or r.created_at < since:
                continue
            hit = bool((r.metadata or {}).get(HIT_KEY))
            saved = Decimal(str((r.metadata or {}).get(ACTUAL_COST_KEY) or 0)) if hit else Decimal(0)
            requests, hits, savings = groups.get((r.model, r.provider), (0, 0, Decimal(0)))
            groups[(r.model, r.provider)] = (requests + 1, hits + hit, savings + saved)
        return [CacheUsage(model=m, provider=p, requests=n, hits=h, savings=s)
                for (m, p), (n, h, s) in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))]
