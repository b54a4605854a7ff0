"""The leader lock in one process: several schedulers sharing one instance elect one, as Redis does."""

from __future__ import annotations

from ports.clock import Clock


class MemoryLeaderLock:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._holder: str | None = None
        self._until = 0.0

    async def acquire(self, owner: str, ttl_s: float) -> bool:
        now = self._clock.monotonic()
        if self._holder not in (None, owner) and now < self._until:
            return False
        self._holder, self._until = owner, now + ttl_s
        return True

    async def release(self, owner: str) -> None:
        if self._holder == owner:
            self._holder = None

    async def holder(self) -> str | None:
        if self._holder is not None and self._clock.monotonic() < self._until:
            return self._holder
        return None
