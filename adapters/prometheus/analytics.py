"""Analytics delivery counts in Prometheus (ports.analytics.AnalyticsMetrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class PrometheusAnalyticsMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._events = Counter("gatewayz_analytics_events", "Analytics events by sink and outcome",
                               ["sink", "result", "reason"], registry=registry)

    def events(self, sink: str, result: str, count: int, *, reason: str = "") -> None:
        self._events.labels(sink, result, reason).inc(count)
