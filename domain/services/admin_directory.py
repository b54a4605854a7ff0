"""The admin user directory's aggregates (#1601, #1608, #1610, #1611, #1613, #1614): validation and
key hashing here, the figures in the database (ports/admin_queries.py)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import msgspec

from domain import not_found
from domain.accounts import User
from domain.admin import UserFilter, cents, growth_rate
from domain.api_keys import hash_key
from domain.errors import InvalidInput, NotFound
from ports.admin_queries import AdminQueries, Row
from ports.clock import Clock


class Growth(msgspec.Struct, frozen=True, kw_only=True):
    start_date: str
    end_date: str
    data: list[dict[str, Any]]
    total: int
    growth_rate: Any


class AdminDirectory:
    def __init__(self, queries: AdminQueries, clock: Clock, key_secret: bytes) -> None:
        self._q = queries
        self._clock = clock
        self._secret = key_secret

    def user_filter(self, *, email: str | None, api_key: str | None, is_active: bool | None) -> UserFilter:
        return UserFilter(email=email or None, api_key=api_key or None, is_active=is_active,
                          key_hash=hash_key(self._secret, api_key) if api_key else None)

    async def balances(self, *, limit: int, offset: int) -> tuple[int, list[Row]]:
        return await self._q.balances(limit=limit, offset=offset)

    async def growth(self, days: int) -> Growth:
        if not 1 <= days <= 365:
            raise InvalidInput("must be between 1 and 365", field="days", loc=["query", "days"])
        today = self._clock.now().astimezone(UTC).date()
        start = today - timedelta(days=days - 1)
        before, per_day = await self._q.user_growth(datetime.combine(start, time.min, tzinfo=UTC))
        data: list[dict[str, Any]] = []
        running, first = before, 0
        for i in range(days):
            day = (start + timedelta(days=i)).isoformat()
            new = per_day.get(day, 0)
            running += new
            first = first if i else running
            data.append({"date": day, "value": running, "new_users": new})
        return Growth(start_date=start.isoformat(), end_date=today.isoformat(), data=data, total=running,
                      growth_rate=growth_rate(first, running, len(data)))

    async def stats(self, where: UserFilter) -> Row:
        found = await self._q.user_stats(where)
        total = int(found["total"])
        return {"active_users": found["active"], "inactive_users": total - int(found["active"]),
                "admin_users": found["admins"], "developer_users": found["developers"],
                "regular_users": found["regular"], "total_credits": cents(found["credits"]),
                "average_credits": cents(found["credits"] / total) if total else cents(0),
                "subscription_breakdown": found["subscription_breakdown"], "total_users": total}

    async def users(self, where: UserFilter, *, limit: int, offset: int) -> tuple[int, list[User]]:
        return await self._q.users(where, limit=limit, offset=offset)

    async def by_api_key(self, api_key: str) -> Row:
        if not api_key.strip():
            raise InvalidInput("must not be empty", field="api_key", loc=["query", "api_key"])
        found = await self._q.user_by_key_hash(hash_key(self._secret, api_key))
        if found is None:
            raise NotFound(f"No user found with API key: {api_key[:20]}...")
        return found

    async def api_key(self, key_id: int) -> Row:
        found = await self._q.api_key(key_id)
        if found is None:
            raise not_found.api_key()
        return found

    async def recent_requests(self, user_id: int) -> list[Row]:
        return await self._q.recent_requests(user_id, limit=10)
