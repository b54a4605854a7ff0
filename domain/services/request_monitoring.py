"""Request monitoring and the platform overview (#1602, #1616-#1622, #1634, #1635): filters checked
here, figures computed by the database, the summary cached 60 s under the seed's key."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.admin import RequestFilter, alert_status, percent, recommendations
from domain.api_keys import hash_key
from domain.errors import InvalidInput, NotFound
from domain.ledger_queries import date_bound
from ports.admin_queries import AdminQueries, Row
from ports.clock import Clock
from ports.result_cache import CacheUnavailable, ResultCache

SUMMARY_TTL_S = 60
MAX_PLOT_POINTS = 1000
USAGE_SORT_FIELDS = frozenset({
    "model_name", "provider_name", "successful_requests", "total_cost_usd", "avg_cost_per_request_usd",
    "total_input_tokens", "total_output_tokens", "total_tokens", "avg_processing_time_ms", "first_request_at",
    "last_request_at"})


def summary_key(model_id: int | None, provider_id: str | None, model_name: str | None, start_date: str | None,
                end_date: str | None) -> str:
    """The seed's key: md5 of `model_id:provider_id:model_name:start_date:end_date`, missing values `None`."""
    raw = f"{model_id}:{provider_id}:{model_name}:{start_date}:{end_date}"
    return "chat_summary:filters:" + hashlib.md5(raw.encode()).hexdigest()  # a cache key, not a secret


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


class RequestMonitoring:
    def __init__(self, queries: AdminQueries, cache: ResultCache, clock: Clock, key_secret: bytes) -> None:
        self._q = queries
        self._cache = cache
        self._clock = clock
        self._secret = key_secret

    @staticmethod
    def request_filter(*, model_id: int | None = None, provider_id: str | None = None, model_name: str | None = None,
                       start_date: str | None = None, end_date: str | None = None) -> RequestFilter:
        return RequestFilter(model_id=model_id, provider_id=provider_id or None, model_name=model_name or None,
                             since=date_bound(start_date, field="start_date", end=False),
                             until=date_bound(end_date, field="end_date", end=True))

    async def monitor(self) -> Row:
        return await self._q.monitor(self._clock.now())

    async def requests(self, where: RequestFilter, *, limit: int, offset: int) -> tuple[int, list[Row]]:
        return await self._q.chat_requests(where, limit=limit, offset=offset)

    async def summary(self, where: RequestFilter, key: str) -> tuple[Row, bool]:
        """(summary body without `cached`, whether it came from the cache)."""
        try:
            hit = await self._cache.get(key)
        except CacheUnavailable:
            hit = None
        if hit is not None:
            return json.loads(hit), True
        s = await self._q.chat_summary(where)
        total = int(s["total_requests"])
        summary = {
            "total_requests": total, "total_input_tokens": int(s["total_input_tokens"]),
            "total_output_tokens": int(s["total_output_tokens"]),
            "total_tokens": int(s["total_input_tokens"]) + int(s["total_output_tokens"]),
            "avg_input_tokens": round(float(s["avg_input_tokens"] or 0), 2),
            "avg_output_tokens": round(float(s["avg_output_tokens"] or 0), 2),
            "avg_processing_time_ms": round(float(s["avg_processing_time_ms"] or 0), 2),
            "completed_requests": int(s["completed_requests"]), "failed_requests": int(s["failed_requests"]),
            "success_rate": float(percent(int(s["completed_requests"]), total)),
            "first_request_at": _iso(s["first_request_at"]), "last_request_at": _iso(s["last_request_at"]),
            "total_cost_usd": str(s["total_cost_usd"].normalize() if s["total_cost_usd"] else Decimal(0)),
        }
        body = {"summary": summary, "timestamp": self._clock.now().isoformat()}
        try:
            await self._cache.set(key, json.dumps(body).encode(), ttl_s=SUMMARY_TTL_S)
        except CacheUnavailable:
            pass
        return body, False

    async def plot(self, where: RequestFilter) -> Row:
        total, recent = await self._q.chat_requests(where, limit=10, offset=0)
        points = await self._q.plot_points(where, total=total, max_points=MAX_PLOT_POINTS)
        return {"recent": recent, "points": points, "total": total}

    async def by_api_key(self, api_key: str, *, limit: int, offset: int) -> tuple[Row, int, list[Row]]:
        if not api_key.strip():
            raise InvalidInput("must not be empty", field="api_key", loc=["query", "api_key"])
        key = await self._q.api_key_by_hash(hash_key(self._secret, api_key))
        if key is None:
            raise NotFound("API key not found")
        total, rows = await self._q.chat_requests(RequestFilter(), limit=limit, offset=offset, api_key_id=key["id"])
        return key, total, rows

    async def by_provider(self) -> list[Row]:
        return await self._q.by_provider()

    async def counts(self) -> list[Row]:
        return await self._q.by_model_and_provider()

    async def models(self, provider_id: str | None) -> list[Row]:
        return await self._q.by_model(provider_id or None)

    async def model_usage(self, *, page: int, limit: int, model_name: str | None, sort_by: str,
                          sort_order: str) -> tuple[int, list[Row], str, str]:
        """(groups, page rows, the sort field and order actually used: invalid ones fall back silently)."""
        used_by = sort_by if sort_by in USAGE_SORT_FIELDS else "total_cost_usd"
        used_order = sort_order if sort_order in ("asc", "desc") else "desc"
        total, rows = await self._q.model_usage(model_name=model_name or None, sort_by=used_by,
                                                descending=used_order == "desc", limit=limit,
                                                offset=(page - 1) * limit)
        return total, rows, used_by, used_order

    async def tracking_quality(self, hours: int) -> Row:
        if not 1 <= hours <= 168:
            raise InvalidInput("must be between 1 and 168", field="hours", loc=["query", "hours"])
        now = self._clock.now()
        q = await self._q.tracking_quality(now - timedelta(hours=hours))
        total = int(q["total"])
        rate = percent(int(q["with_api_key"]), total)
        return {
            "total_requests": total, "requests_with_api_key": q["with_api_key"],
            "requests_without_api_key": total - int(q["with_api_key"]),
            "requests_with_user_but_no_key": q["user_without_key"], "anonymous_requests": q["anonymous"],
            "tracking_rate_percent": float(rate),
            "breakdown": {"with_api_key_percent": float(percent(int(q["with_api_key"]), total)),
                          "user_without_key_percent": float(percent(int(q["user_without_key"]), total)),
                          "anonymous_percent": float(percent(int(q["anonymous"]), total))},
            "alert_status": alert_status(rate, total),
            "time_window": {"hours": hours, "start": (now - timedelta(hours=hours)).isoformat(),
                            "end": now.isoformat()},
            "recommendations": recommendations(total=total, user_without_key=int(q["user_without_key"]),
                                               anonymous=int(q["anonymous"]), rate=rate),
        }

    async def tracking_trend(self, days: int) -> Row:
        if not 1 <= days <= 30:
            raise InvalidInput("must be between 1 and 30", field="days", loc=["query", "days"])
        now = self._clock.now().astimezone(UTC)
        start = now - timedelta(days=days)
        found = {row["index"]: row for row in await self._q.tracking_trend(start, days)}
        trend, total, keyed = [], 0, 0
        for i in range(days):
            row = found.get(i, {"total": 0, "with_key": 0})
            n, k = int(row["total"]), int(row["with_key"])
            total, keyed = total + n, keyed + k
            trend.append({"date": (start + timedelta(days=i)).date().isoformat(), "total_requests": n,
                          "requests_with_api_key": k, "tracking_rate_percent": float(percent(k, n))})
        return {"trend": trend, "summary": {
            "period_days": days, "total_requests": total, "requests_with_api_key": keyed,
            "average_tracking_rate_percent": float(percent(keyed, total)),
            "start_date": start.isoformat(), "end_date": now.isoformat()}}

