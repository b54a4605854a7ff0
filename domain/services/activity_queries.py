"""The caller's activity: the log (GET /user/activity/log) and its statistics (GET /user/activity/stats),
every UTC day of the period present (zero-filled), breakdowns sorted by cost."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from domain.activity import ActivityFilter, ActivityPage, ActivityStats, UsageGroup
from ports.activity import ActivityQueries
from ports.clock import Clock


class ActivityLog:
    def __init__(self, queries: ActivityQueries) -> None:
        self._queries = queries

    async def __call__(self, user_id: int, where: ActivityFilter, *, limit: int, offset: int) -> ActivityPage:
        return await self._queries.log(user_id, where, limit=limit, offset=offset)


def _by_cost(groups: list[UsageGroup]) -> list[UsageGroup]:
    return sorted(groups, key=lambda g: (-g.cost_usd, -g.requests, g.key or ""))


class ActivityStatistics:
    def __init__(self, queries: ActivityQueries, clock: Clock) -> None:
        self._queries = queries
        self._clock = clock

    async def __call__(self, user_id: int, *, days: int) -> ActivityStats:
        """The last `days` UTC days, today included."""
        today = self._clock.now().astimezone(UTC).date()
        first = today - timedelta(days=days - 1)
        since = datetime.combine(first, time(0), tzinfo=UTC)
        until = datetime.combine(today + timedelta(days=1), time(0), tzinfo=UTC)
        q = self._queries
        totals = await q.usage(user_id, since=since, until=until, by="all")
        per_day = {g.key: g for g in await q.usage(user_id, since=since, until=until, by="day")}
        daily = []
        for i in range(days):
            day = first + timedelta(days=i)
            daily.append((day, per_day.get(day.isoformat(), UsageGroup(key=day.isoformat()))))
        return ActivityStats(
            since=since, until=until, days=days, totals=totals[0] if totals else UsageGroup(key=None), daily=daily,
            by_model=_by_cost(await q.usage(user_id, since=since, until=until, by="model")),
            by_provider=_by_cost(await q.usage(user_id, since=since, until=until, by="provider")),
            by_key=_by_cost(await q.usage(user_id, since=since, until=until, by="key")))
