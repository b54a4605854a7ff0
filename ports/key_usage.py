"""When each key was last used: noted on the hot path for free, written behind in batches."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class KeyUsage(Protocol):
    def seen(self, key_id: int, at: datetime) -> None:
        """Note a successful authentication; never waits and never fails the request."""
        ...


class KeyUsageStore(Protocol):
    async def mark_used(self, uses: dict[int, datetime]) -> None:
        """Move each key's `last_used_at` forward to the given time (never back)."""
        ...
