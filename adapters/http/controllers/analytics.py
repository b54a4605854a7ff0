"""Product analytics events (#1631 one, #1632 a batch, #1633 a session start). Optional auth, as in
the seed: a valid key identifies the caller, no key or a bad one means anonymous (the apps report
before login). Answers once the events are queued: delivery to Statsig and PostHog happens later.

The response cache's savings (#1661, #1662) need a user key."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from adapters.http.bundles.analytics import AnalyticsBundle
from adapters.http.guards import client_ip
from adapters.http.schemas.analytics import (
    AnalyticsEventIn,
    AnalyticsLoggedOut,
    SessionStartIn,
    bounded_metadata,
    decode_batch,
)
from adapters.http.schemas.cache_analytics import CacheAnalyticsOut, CacheDays, CacheSummaryOut
from domain.accounts import User
from domain.response_cache import user_enabled
from domain.services.log_events import ReportedEvent


def _caller(request: Request[Any, Any, Any]) -> int | None:
    principal = getattr(request.state, "principal", None)
    return principal.user.id if principal is not None else None


def _reported(event: AnalyticsEventIn, field: str) -> ReportedEvent:
    return ReportedEvent(event.event_name, user_id=event.user_id, value=event.value,
                         metadata=bounded_metadata(event.metadata, field))


class AnalyticsController(Controller):
    path = "/v1/analytics"
    tags = ["analytics"]
    opt = {"auth": "identify"}

    @post("/events", operation_id="analytics_log_event", status_code=200)
    async def event(self, request: Request[Any, Any, Any], analytics_services: AnalyticsBundle,
                    data: JSONBody[AnalyticsEventIn]) -> AnalyticsLoggedOut:
        await analytics_services.log_events.one(_reported(data, "metadata"), user_id=_caller(request),
                                                client_ip=client_ip(request))
        return AnalyticsLoggedOut(success=True, message=f"Event '{data.event_name}' logged successfully")

    @post("/batch", operation_id="analytics_log_batch", status_code=200)
    async def batch(self, request: Request[Any, Any, Any], analytics_services: AnalyticsBundle) -> AnalyticsLoggedOut:
        """The body (a JSON array, documented in openapi.py) is decoded here so a bad event is named."""
        data = decode_batch(await request.body())
        events = [_reported(e, f"{i}.metadata") for i, e in enumerate(data)]  # all checked before any is queued
        count = await analytics_services.log_events.batch(events, user_id=_caller(request),
                                                          client_ip=client_ip(request))
        return AnalyticsLoggedOut(success=True, message=f"{count} events logged successfully")

    @post("/session/start", operation_id="analytics_session_start", status_code=200)
    async def session_start(self, request: Request[Any, Any, Any], analytics_services: AnalyticsBundle,
                            data: JSONBody[SessionStartIn]) -> AnalyticsLoggedOut:
        await analytics_services.log_events.session_start(
            data.platform, bounded_metadata(data.metadata, "metadata"), user_id=_caller(request),
            client_ip=client_ip(request))
        return AnalyticsLoggedOut(success=True, message="Session start logged successfully")


class CacheAnalyticsController(Controller):
    path = "/v1/analytics/cache"
    tags = ["analytics"]
    opt = {"auth": "user"}

    @get("/", operation_id="analytics_cache")
    async def cache(self, request: Request[Any, Any, Any], analytics_services: AnalyticsBundle,
                    days: CacheDays = 30) -> CacheAnalyticsOut:
        user = request.state.principal.user
        report = await analytics_services.cache_analytics.report(user.id, days, user_enabled=_cache_on(user))
        return msgspec.convert(report, CacheAnalyticsOut)

    @get("/summary", operation_id="analytics_cache_summary")
    async def summary(self, request: Request[Any, Any, Any], analytics_services: AnalyticsBundle) -> CacheSummaryOut:
        user = request.state.principal.user
        summary = await analytics_services.cache_analytics.summary(user.id, user_enabled=_cache_on(user))
        return msgspec.convert(summary, CacheSummaryOut)


def _cache_on(user: User) -> bool:
    return user_enabled(user.preferences)
