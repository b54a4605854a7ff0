"""The caller's own request activity (the log, its statistics) and rate-limit view (account scope)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from litestar import Controller, Request, get
from litestar.params import QueryParameter

from adapters.http.bundles.accounts import AccountsBundle
from adapters.http.controllers.own_keys import _user_id
from adapters.http.params import Limit100, Offset
from adapters.http.schemas.accounts import (
    ActivityLogEntryOut,
    ActivityLogOut,
    ActivityStatsOut,
    KeyRateLimitsOut,
    RateLimitsOut,
)
from domain.activity import ActivityFilter
from domain.errors import InvalidInput

Days = Annotated[int, QueryParameter(ge=1, le=365, description="UTC days, today included")]
Bound = Annotated[str | None, QueryParameter(max_length=40, required=False,
                                             description="ISO date or datetime (UTC when no offset)")]
Text = Annotated[str | None, QueryParameter(max_length=200, required=False)]


def _moment(value: str | None, name: str, *, end: bool) -> datetime | None:
    """A date means the whole day: `from` its start, `to` its end (exclusive: the next midnight)."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day + timedelta(days=1) if end else day, time(0), tzinfo=UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput("not an ISO date or datetime", field=name, loc=["query", name]) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class UserActivityController(Controller):
    path = "/user/activity"
    tags = ["account"]
    opt = {"auth": "user", "scope": "account"}

    @get("/log", operation_id="user_activity_log")
    async def log(self, request: Request[Any, Any, Any], accounts_services: AccountsBundle,
                  limit: Limit100 = 50, offset: Offset = 0,
                  from_: Annotated[str | None, QueryParameter(name="from", max_length=40, required=False)] = None,
                  to: Bound = None, model: Text = None, provider: Text = None,
                  status: Annotated[Literal["completed", "failed"] | None, QueryParameter(required=False)] = None,
                  ) -> ActivityLogOut:
        where = ActivityFilter(since=_moment(from_, "from", end=False), until=_moment(to, "to", end=True),
                               model=model, provider=provider, status=status)
        page = await accounts_services.activity_log(_user_id(request), where, limit=limit, offset=offset)
        return ActivityLogOut(logs=[ActivityLogEntryOut.of(e) for e in page.entries], total=page.total,
                              has_more=offset + len(page.entries) < page.total, limit=limit, offset=offset)

    @get("/stats", operation_id="user_activity_stats")
    async def stats(self, request: Request[Any, Any, Any], accounts_services: AccountsBundle,
                    days: Days = 30) -> ActivityStatsOut:
        return ActivityStatsOut.of(await accounts_services.activity_stats(_user_id(request), days=days))


class UserRateLimitsController(Controller):
    path = "/user/rate-limits"
    tags = ["account"]
    opt = {"auth": "user", "scope": "account"}

    @get("/", operation_id="user_rate_limits")
    async def show(self, request: Request[Any, Any, Any], accounts_services: AccountsBundle) -> RateLimitsOut:
        views = await accounts_services.show_rate_limits(_user_id(request))
        return RateLimitsOut(rate_limit_configs=[KeyRateLimitsOut(
            api_key_id=v.key.id, key_name=v.key.name, display=v.key.display, source="custom" if v.custom else "default",
            limits=v.limits, usage=v.usage, resets_in_seconds=v.resets_in_seconds) for v in views])
