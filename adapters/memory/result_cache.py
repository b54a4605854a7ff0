"""ResultCache in this process (no Redis): entries expire by the clock."""

from __future__ import annotations

from ports.clock import Clock


class MemoryResultCache:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._entries: dict[str, tuple[float, bytes]] = {}

    async def get(self, key: str) -> bytes | None:
        found = self._entries.get(key)
        if found is None:
            return None
        if found[0] <= self._clock.now().timestamp():
            del self._entries[key]
            return None
        return found[1]

    async def set(self, key: str, value: bytes, *, ttl_s: int) -> None:
        self._entries[key] = (self._clock.now().timestamp() + ttl_s, value)

    async def delete(self, key: str) -> None:
        self._entries.pop(key, None)
