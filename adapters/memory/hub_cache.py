"""HubMetadataCache in this process (no Redis): entries expire by the clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ports.clock import Clock


class MemoryHubCache:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._entries: dict[str, tuple[datetime, datetime, dict[str, Any]]] = {}  # id -> (fetched, expires, data)

    async def store(self, repo_id: str, data: dict[str, Any], *, now: datetime, ttl_s: int) -> None:
        self._entries[repo_id] = (now, now + timedelta(seconds=ttl_s), data)

    async def entries(self) -> dict[str, datetime]:
        now = self._clock.now()
        for repo_id in [i for i, (_, expires, _) in self._entries.items() if expires <= now]:
            del self._entries[repo_id]
        return {i: fetched for i, (fetched, _, _) in sorted(self._entries.items())}

    async def clear(self) -> int:
        n = len(self._entries)
        self._entries.clear()
        return n
