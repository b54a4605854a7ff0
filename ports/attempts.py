"""Attempt counters of the auth routes (per client IP, per account), shared by every process."""

from __future__ import annotations

from typing import Protocol


class AttemptLimiter(Protocol):
    async def hit(self, bucket: str, *, limit: int, window_s: float, now: float) -> float | None:
        """Count one attempt in a sliding window of `window_s`; None when it is within `limit`, else
        the seconds until one more would be (a refused attempt is not counted)."""
        ...

    async def peek(self, bucket: str, *, limit: int, window_s: float, now: float) -> float | None:
        """What hit would answer, counting nothing."""
        ...

    async def clear(self, bucket: str) -> None: ...
