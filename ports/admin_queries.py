"""The admin read surface over users, keys and request rows (issue 14): every figure an aggregate in
the database, every list a page. Rows come back as plain mappings, money as Decimal."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from domain.accounts import User
from domain.admin import RequestFilter, UserFilter

Row = dict[str, Any]


class AdminQueries(Protocol):
    async def balances(self, *, limit: int, offset: int) -> tuple[int, list[Row]]:
        """(all users, a page of {user_id, api_key (display), credits, created_at, updated_at}) by id."""
        ...

    async def user_growth(self, since: datetime) -> tuple[int, dict[str, int]]:
        """(users created before `since`, new users per UTC date from `since` on)."""
        ...

    async def user_stats(self, where: UserFilter) -> Row: ...

    async def users(self, where: UserFilter, *, limit: int, offset: int) -> tuple[int, list[User]]:
        """(matching users, a page of them newest first)."""
        ...

    async def user_by_key_hash(self, key_hash: str) -> Row | None: ...

    async def users_in_domain(self, domain: str) -> list[Row]:
        """Not-yet-deleted users whose email ends exactly in `@<domain>` (no subdomains): {id, email,
        username, created_at, credits}, by id."""
        ...

    async def api_key(self, key_id: int) -> Row | None:
        """The key with its owner (`user`) and `requests_used`; None when there is no such key."""
        ...

    async def recent_requests(self, user_id: int, *, limit: int) -> list[Row]: ...

    async def monitor(self, now: datetime) -> Row: ...

    async def trial_analytics(self, now: datetime) -> Row:
        """#1607 in one statement: trial counts and each trial user's requests inside their trial window."""
        ...

    async def chat_requests(self, where: RequestFilter, *, limit: int, offset: int,
                            api_key_id: int | None = None) -> tuple[int, list[Row]]: ...

    async def chat_summary(self, where: RequestFilter) -> Row: ...

    async def plot_points(self, where: RequestFilter, *, total: int, max_points: int) -> list[Row]:
        """{at, tokens, latency} oldest first: each row while `total` <= max_points, else averages over
        max_points equal time buckets."""
        ...

    async def api_key_by_hash(self, key_hash: str) -> Row | None: ...

    async def by_provider(self) -> list[Row]: ...

    async def by_model_and_provider(self) -> list[Row]: ...

    async def by_model(self, provider_id: str | None) -> list[Row]: ...

    async def model_usage(self, *, model_name: str | None, sort_by: str, descending: bool, limit: int,
                          offset: int) -> tuple[int, list[Row]]:
        """#1623: completed requests per (model, serving provider), with the offer's prices and the
        model's context length; (groups, a page of them)."""
        ...

    async def tracking_quality(self, since: datetime) -> Row: ...

    async def tracking_trend(self, start: datetime, days: int) -> list[Row]:
        """Per rolling 24-hour window from `start`: {index, total, with_key}; windows without rows absent."""
        ...
