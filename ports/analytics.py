"""Where product analytics events go: sinks (Statsig, PostHog) behind a queue the handlers feed."""

from __future__ import annotations

from typing import Protocol

from domain.analytics import AnalyticsEvent


class DeliveryFailed(Exception):
    """A sink could not take a batch; `retryable` (network, timeout, 5xx) or not (4xx: dropped)."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class AnalyticsSink(Protocol):
    """One analytics service. `send` delivers the whole batch or raises DeliveryFailed."""

    name: str

    async def send(self, events: list[AnalyticsEvent]) -> None: ...


class AnalyticsQueue(Protocol):
    """What handlers call: accept every event of the list for later delivery, or none of them."""

    def offer(self, events: list[AnalyticsEvent]) -> bool:
        """False when the queue cannot take them all; then nothing was queued."""
        ...


class AnalyticsMetrics(Protocol):
    def events(self, sink: str, result: str, count: int, *, reason: str = "") -> None:
        """`result` is sent, dropped or retried; `reason` says why a drop happened."""
        ...
