"""Request monitoring (#1616-#1622) and the platform overview (#1602) for admins; API-key tracking
quality (#1634, #1635) for the operator key. Every figure is an aggregate in the database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter

from adapters.http.bundles.monitoring import MonitoringBundle
from adapters.http.params import BIGINT_MAX, Offset
from adapters.http.schemas.admin import moneyish
from domain.services.request_monitoring import summary_key

ModelId = Annotated[int | None, QueryParameter(ge=1, le=BIGINT_MAX, required=False, description="The model's id")]
ProviderId = Annotated[str | None, QueryParameter(min_length=1, max_length=64, required=False,
                                                  description="The serving provider's slug")]
ModelName = Annotated[str | None, QueryParameter(max_length=200, required=False, description="Model name contains")]
DateParam = Annotated[str | None, QueryParameter(max_length=40, required=False,
                                                 description="YYYY-MM-DD (the whole UTC day) or ISO 8601")]
RequestsLimit = Annotated[int, QueryParameter(ge=1, le=100_000, description="Rows per page, at most 100000")]
KeyLimit = Annotated[int, QueryParameter(ge=1, le=1000, description="Rows per page, at most 1000")]
ExactKey = Annotated[str, QueryParameter(min_length=1, max_length=256, description="The whole API key")]
Hours = Annotated[int, QueryParameter(ge=1, le=168, description="Hours back, 1..168")]
Page = Annotated[int, QueryParameter(ge=1, le=10_000_000, description="1-based page")]
UsageLimit = Annotated[int, QueryParameter(ge=1, le=500, description="Rows per page, at most 500")]
SortText = Annotated[str, QueryParameter(max_length=64, description="Invalid values fall back to the default")]
Page = Annotated[int, QueryParameter(ge=1, le=10_000_000, description="1-based page")]
UsageLimit = Annotated[int, QueryParameter(ge=1, le=500, description="Rows per page, at most 500")]
SortText = Annotated[str, QueryParameter(max_length=64, description="Invalid values fall back to the default")]
TrendDays = Annotated[int, QueryParameter(ge=1, le=30, description="Rolling days, 1..30")]


def _now() -> datetime:
    return datetime.now(UTC)


class AdminMonitoringController(Controller):
    path = "/admin"
    tags = ["admin"]
    opt = {"auth": "admin"}

    @get("/monitor", operation_id="admin_monitor")
    async def monitor(self, monitoring_services: MonitoringBundle) -> dict[str, Any]:
        m = await monitoring_services.monitoring.monitor()
        return {"status": "success", "timestamp": _now(), "data": moneyish({
            "total_users": m["total_users"], "total_credits": m["total_credits"],
            "api_calls_today": m["calls_today"], "api_calls_month": m["calls_month"],
            "tokens_today": int(m["tokens_today"]), "tokens_month": int(m["tokens_month"]),
            "revenue_today": m["revenue_today"], "revenue_month": m["revenue_month"],
            "users_today": m["users_today"],
            "recent_usage": [{k: row[k] for k in ("request_id", "user_id", "model", "provider", "total_tokens",
                                                  "cost_usd", "status", "created_at")} for row in m["recent_usage"]],
            "user_metrics": {str(u["user_id"]): {
                "username": u["username"], "email": u["email"], "api_key": u["api_key"],
                "requests_30d": u["requests"], "tokens_30d": int(u["tokens"]), "cost_30d": u["cost"],
                "credits": u["credits"]} for u in m["user_metrics"]},
        })}

    @get("/trial/analytics", operation_id="admin_trial_analytics")
    async def trial_analytics(self, monitoring_services: MonitoringBundle) -> dict[str, Any]:
        return {"success": True, "analytics": await monitoring_services.trial_analytics()}

    @get("/monitoring/chat-requests", operation_id="admin_chat_requests")
    async def chat_requests(self, monitoring_services: MonitoringBundle, model_id: ModelId = None,
                            provider_id: ProviderId = None, model_name: ModelName = None,
                            start_date: DateParam = None, end_date: DateParam = None, limit: RequestsLimit = 100,
                            offset: Offset = 0) -> dict[str, Any]:
        mon = monitoring_services.monitoring
        where = mon.request_filter(model_id=model_id, provider_id=provider_id, model_name=model_name,
                                   start_date=start_date, end_date=end_date)
        total, rows = await mon.requests(where, limit=limit, offset=offset)
        return {"success": True, "data": moneyish(rows), "metadata": {
            "total_count": total, "limit": limit, "offset": offset, "returned_count": len(rows),
            "filters": {"model_id": model_id, "provider_id": provider_id, "model_name": model_name,
                        "start_date": start_date, "end_date": end_date}, "timestamp": _now()}}

    @get("/monitoring/chat-requests/summary", operation_id="admin_chat_requests_summary")
    async def summary(self, monitoring_services: MonitoringBundle, model_id: ModelId = None,
                      provider_id: ProviderId = None, model_name: ModelName = None,
                      start_date: DateParam = None, end_date: DateParam = None) -> dict[str, Any]:
        mon = monitoring_services.monitoring
        where = mon.request_filter(model_id=model_id, provider_id=provider_id, model_name=model_name,
                                   start_date=start_date, end_date=end_date)
        body, cached = await mon.summary(where, summary_key(model_id, provider_id, model_name, start_date, end_date))
        summary = dict(body["summary"])
        summary["total_cost_usd"] = msgspec.Raw(summary["total_cost_usd"].encode())
        return {"summary": summary, "filters": {"model_id": model_id, "provider_id": provider_id,
                                                "model_name": model_name, "start_date": start_date,
                                                "end_date": end_date},
                "timestamp": body["timestamp"], "cached": cached}

    @get("/monitoring/chat-requests/plot-data", operation_id="admin_chat_requests_plot_data")
    async def plot_data(self, monitoring_services: MonitoringBundle, model_id: ModelId = None,
                        provider_id: ProviderId = None, start_date: DateParam = None,
                        end_date: DateParam = None) -> dict[str, Any]:
        mon = monitoring_services.monitoring
        where = mon.request_filter(model_id=model_id, provider_id=provider_id, start_date=start_date,
                                   end_date=end_date)
        plot = await mon.plot(where)
        points = plot["points"]
        return {"success": True, "recent_requests": moneyish(plot["recent"]),
                "plot_data": {"tokens": [p["tokens"] for p in points], "latency": [p["latency"] for p in points],
                              "timestamps": [p["at"] for p in points]},
                "metadata": {"recent_count": len(plot["recent"]), "total_count": plot["total"],
                             "points": len(points), "timestamp": _now(), "compression": "arrays",
                             "format_version": "1.0"}}

    @get("/monitoring/chat-requests/by-api-key", operation_id="admin_chat_requests_by_api_key")
    async def by_api_key(self, monitoring_services: MonitoringBundle, api_key: ExactKey, limit: KeyLimit = 100,
                         offset: Offset = 0, include_summary: FromQuery[bool] = False) -> dict[str, Any]:
        key, total, rows = await monitoring_services.monitoring.by_api_key(api_key, limit=limit, offset=offset)
        pages = -(-total // limit)
        out: dict[str, Any] = {
            "success": True, "data": moneyish(rows),
            "api_key_info": {"id": key["id"], "key_name": key["name"], "user_id": key["user_id"],
                             "environment_tag": key["environment"], "is_active": bool(key["is_active"]),
                             "created_at": key["created_at"]},
            "pagination": {"limit": limit, "offset": offset, "total_count": total,
                           "has_more": offset + len(rows) < total, "current_page": offset // limit + 1,
                           "total_pages": pages,
                           "next_offset": offset + limit if offset + len(rows) < total else None,
                           "prev_offset": max(offset - limit, 0) if offset > 0 else None},
            "timestamp": _now()}
        if include_summary:
            out["summary"] = {"total_requests": total}
        return out

    @get("/monitoring/chat-requests/providers", operation_id="admin_chat_requests_providers")
    async def providers(self, monitoring_services: MonitoringBundle) -> dict[str, Any]:
        rows = await monitoring_services.monitoring.by_provider()
        return {"success": True, "data": rows, "metadata": {"total_providers": len(rows), "timestamp": _now()}}

    @get("/monitoring/chat-requests/counts", operation_id="admin_chat_requests_counts")
    async def counts(self, monitoring_services: MonitoringBundle) -> dict[str, Any]:
        rows = await monitoring_services.monitoring.counts()
        return {"success": True, "data": rows, "metadata": {
            "total_models": len({r["model_id"] for r in rows}),
            "total_requests": sum(r["request_count"] for r in rows), "timestamp": _now()}}

    @get("/monitoring/chat-requests/models", operation_id="admin_chat_requests_models")
    async def models(self, monitoring_services: MonitoringBundle, provider_id: ProviderId = None) -> dict[str, Any]:
        rows = await monitoring_services.monitoring.models(provider_id)
        return {"success": True, "data": rows,
                "metadata": {"total_models": len(rows), "timestamp": _now(), "method": "sql"}}

    @get("/model-usage-analytics", operation_id="admin_model_usage_analytics")
    async def model_usage(self, monitoring_services: MonitoringBundle, page: Page = 1, limit: UsageLimit = 50,
                          model_name: ModelName = None, sort_by: SortText = "total_cost_usd",
                          sort_order: SortText = "desc") -> dict[str, Any]:
        total, rows, used_by, used_order = await monitoring_services.monitoring.model_usage(
            page=page, limit=limit, model_name=model_name, sort_by=sort_by, sort_order=sort_order)
        pages = -(-total // limit)
        return {"success": True, "data": moneyish(rows),
                "pagination": {"page": page, "limit": limit, "total_items": total, "total_pages": pages,
                               "has_next": page < pages, "has_prev": page > 1, "offset": (page - 1) * limit},
                "filters": {"model_name": model_name, "sort_by": used_by, "sort_order": used_order},
                "metadata": {"timestamp": _now(), "items_in_page": len(rows)}}


class TrackingController(Controller):
    """The operator key's view of API-key attribution on request rows."""

    path = "/admin/monitoring"
    tags = ["admin"]
    opt = {"auth": "env_key"}

    @get("/api-key-tracking-quality", operation_id="admin_api_key_tracking_quality")
    async def quality(self, monitoring_services: MonitoringBundle, hours: Hours = 24) -> dict[str, Any]:
        found = await monitoring_services.monitoring.tracking_quality(hours)
        return {"success": True, **found, "timestamp": _now()}

    @get("/api-key-tracking-trend", operation_id="admin_api_key_tracking_trend")
    async def trend(self, monitoring_services: MonitoringBundle, days: TrendDays = 7) -> dict[str, Any]:
        found = await monitoring_services.monitoring.tracking_trend(days)
        return {"success": True, **found, "timestamp": _now()}

