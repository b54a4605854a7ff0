"""LogEvents: the three analytics routes (#1631-#1633). Attribution, the anonymous per-address
limit, then the queue: delivery happens later, so a slow or failing analytics service never
holds up a request, and a full queue refuses the whole batch rather than part of it."""

from __future__ import annotations

from typing import Any

from domain.analytics import (
    SESSION_START,
    AnalyticsEvent,
    batch_event_id,
    session_properties,
    single_event_id,
)
from domain.errors import RateLimited, ServiceUnavailable
from domain.limits import LimitConfig, ip_subject
from ports.analytics import AnalyticsQueue
from ports.clock import Clock
from ports.limits import RateLimiter


class ReportedEvent:
    """One event as a client reported it (the wire schema is decoded into this)."""

    __slots__ = ("metadata", "name", "user_id", "value")

    def __init__(self, name: str, *, user_id: str | None = None, value: str | int | float | None = None,
                 metadata: dict[str, Any] | None = None) -> None:
        self.name = name
        self.user_id = user_id
        self.value = value
        self.metadata = metadata or {}


class LogEvents:
    def __init__(self, queue: AnalyticsQueue, limiter: RateLimiter, clock: Clock, *, anonymous_per_minute: int,
                 ip_salt: bytes) -> None:
        self._queue = queue
        self._limiter = limiter
        self._clock = clock
        self._anonymous = LimitConfig(requests_per_minute=anonymous_per_minute or None, requests_per_hour=None,
                                      requests_per_day=None, tokens_per_minute=None, tokens_per_hour=None,
                                      tokens_per_day=None, concurrent_requests=None)
        self._salt = ip_salt

    async def one(self, event: ReportedEvent, *, user_id: int | None, client_ip: str | None) -> None:
        await self._admit(user_id, client_ip)
        self._enqueue([self._event(event.name, single_event_id(user_id, event.user_id), event.value,
                                   event.metadata)])

    async def batch(self, events: list[ReportedEvent], *, user_id: int | None, client_ip: str | None) -> int:
        await self._admit(user_id, client_ip)
        self._enqueue([self._event(e.name, batch_event_id(user_id, e.user_id), e.value, e.metadata)
                       for e in events])
        return len(events)

    async def session_start(self, platform: str, metadata: dict[str, Any], *, user_id: int | None,
                            client_ip: str | None) -> None:
        await self._admit(user_id, client_ip)
        self._enqueue([self._event(SESSION_START, single_event_id(user_id, None), None,
                                   session_properties(platform, metadata))])

    def _event(self, name: str, distinct_id: str, value: str | int | float | None,
               properties: dict[str, Any]) -> AnalyticsEvent:
        return AnalyticsEvent(name=name, distinct_id=distinct_id, value=value, properties=properties,
                              timestamp=self._clock.now())

    def _enqueue(self, events: list[AnalyticsEvent]) -> None:
        if not self._queue.offer(events):
            raise ServiceUnavailable("Analytics queue full", reason="analytics_queue", retry_after=1)

    async def _admit(self, user_id: int | None, client_ip: str | None) -> None:
        """Anonymous callers are limited per (salted, hashed) address: these routes are public."""
        if user_id is not None or self._anonymous.requests_per_minute is None:
            return
        subject = "analytics:" + ip_subject(self._salt, client_ip)
        now = self._clock.now().timestamp()
        decision = await self._limiter.admit(subject, self._anonymous, 0, now)
        if decision.lease_id is not None:
            await self._limiter.settle(subject, self._anonymous, decision.lease_id, 0, None, now)
        if not decision.allowed:
            raise RateLimited("Too many analytics events from this address",
                              retry_after=max(1, int(decision.retry_after_s + 0.999)))
