"""Reading the fleet's logs from a log store."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.logs import Direction, LogPage


class LogSource(Protocol):
    @property
    def enabled(self) -> bool: ...

    async def query_range(self, query: str, start: datetime, end: datetime, limit: int,
                          direction: Direction = "forward") -> LogPage:
        """Up to `limit` entries of `[start, end]` in `direction` order (the earliest first when
        forward). Raises LogsNotEnabled when no store is configured, LogQueryFailed when it fails."""
        ...
