"""Read side of a user's own requests (chat_completion_requests)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from domain.activity import ActivityFilter, ActivityPage, UsageGroup

GroupBy = Literal["model", "provider", "key", "day", "all"]


class ActivityQueries(Protocol):
    async def log(self, user_id: int, where: ActivityFilter, *, limit: int, offset: int) -> ActivityPage:
        """Newest first, with the key's name."""
        ...

    async def usage(self, user_id: int, *, since: datetime, until: datetime, by: GroupBy) -> list[UsageGroup]:
        """One GROUP BY: sums per model, provider, key (label = its name), UTC day (key = YYYY-MM-DD)
        or one group for everything (key None)."""
        ...
