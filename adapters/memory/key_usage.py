"""Memory twin of the key last-use store: moves `last_used_at` of the store's keys forward."""

from __future__ import annotations

from datetime import datetime

import msgspec

from adapters.memory.store import MemoryStore


class MemoryKeyUsageStore:
    def __init__(self, store: MemoryStore) -> None:
        self._s = store

    async def mark_used(self, uses: dict[int, datetime]) -> None:
        for key_id, at in uses.items():
            key = self._s.api_keys.get(key_id)
            if key is not None and (key.last_used_at is None or key.last_used_at < at):
                self._s.api_keys[key_id] = msgspec.structs.replace(key, last_used_at=at)
