"""Provider response times in Prometheus under the seed's names (#1735), so the query the diagnostics
note gives (`provider_response_duration_seconds`) and dashboards built on the seed keep working."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from domain.timing import ProviderTiming, severity
from ports.timing import ProviderTimings

# 30 and 45 are bucket edges, so the histogram alone tells slow (30-45 s) from very slow (>45 s) calls
RESPONSE_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 45, 60, 120)
OTHER_MODEL = "other"  # the label past `max_series`: a catalog of thousands must not grow the scrape unbounded


class PrometheusProviderTimings:
    """Implements ports.timing.ProviderTimings: every upstream attempt is one histogram observe (plus a
    counter increment when slow, which is rare); the rolling statistics diagnostics shows come from
    `inner`, which it also feeds. Children are cached per (provider, model): `labels()` costs a lock."""

    def __init__(self, registry: CollectorRegistry, inner: ProviderTimings, *, max_series: int = 2_000) -> None:
        self.duration = Histogram("provider_response_duration_seconds",
                                  "Upstream response time per attempt (to the answer, or to the first chunk)",
                                  ["provider", "model"], buckets=RESPONSE_BUCKETS, registry=registry)
        self.slow = Counter("provider_slow_requests_total", "Total slow provider requests (>30s) by severity level",
                            ["provider", "model", "severity"], registry=registry)
        self._inner = inner
        self._max = max_series
        self._children: dict[tuple[str, str], Histogram] = {}

    def observe(self, provider: str, seconds: float, ok: bool, *, model: str | None = None) -> None:
        self._inner.observe(provider, seconds, ok, model=model)
        label = model or ""
        child = self._children.get((provider, label))
        if child is None:
            label, child = self._child(provider, label)
        child.observe(seconds)
        level = severity(seconds)
        if level is not None:
            self.slow.labels(provider, label, level).inc()

    def _child(self, provider: str, model: str) -> tuple[str, Histogram]:
        if len(self._children) >= self._max:
            model = OTHER_MODEL
        child = self._children.get((provider, model))
        if child is None:
            child = self._children[(provider, model)] = self.duration.labels(provider, model)
        return model, child

    def snapshot(self) -> list[ProviderTiming]:
        return self._inner.snapshot()
