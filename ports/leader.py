"""Leader election: exactly one process of the fleet runs the monitoring jobs."""

from __future__ import annotations

from typing import Protocol


class LeaderLock(Protocol):
    async def acquire(self, owner: str, ttl_s: float) -> bool:
        """Take the lock, or renew it when `owner` holds it; True while `owner` leads. Raises
        ServiceUnavailable when the lock's store cannot be reached."""
        ...

    async def release(self, owner: str) -> None:
        """Give the lock up if `owner` holds it (a clean shutdown hands over at once)."""
        ...

    async def holder(self) -> str | None:
        """Who leads now (None: nobody)."""
        ...
