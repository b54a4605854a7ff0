"""In-process auth attempt counters (the embedded mode, one process)."""

from __future__ import annotations

from collections import deque


class MemoryAttemptLimiter:
    def __init__(self, max_buckets: int = 100_000) -> None:
        self._buckets: dict[str, deque[float]] = {}
        self._max = max_buckets

    async def peek(self, bucket: str, *, limit: int, window_s: float, now: float) -> float | None:
        times = self._buckets.get(bucket)
        if not times:
            return None
        while times and times[0] <= now - window_s:
            times.popleft()
        return max(1.0, times[0] + window_s - now) if len(times) >= limit else None

    async def hit(self, bucket: str, *, limit: int, window_s: float, now: float) -> float | None:
        times = self._buckets.setdefault(bucket, deque())
        while times and times[0] <= now - window_s:
            times.popleft()
        if len(times) >= limit:
            return max(1.0, times[0] + window_s - now)
        times.append(now)
        if len(self._buckets) > self._max:  # forget the oldest buckets first (dicts keep insertion order)
            for key in list(self._buckets)[: len(self._buckets) - self._max]:
                del self._buckets[key]
        return None

    async def clear(self, bucket: str) -> None:
        self._buckets.pop(bucket, None)
