"""Response cache counts in Prometheus (ports.response_cache.ResponseCacheMetrics)."""

from __future__ import annotations

from decimal import Decimal

from prometheus_client import CollectorRegistry, Counter


class PrometheusResponseCacheMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._requests = Counter("gatewayz_response_cache_requests", "Response cache lookups by result",
                                 ["result"], registry=registry)
        self._savings = Counter("gatewayz_response_cache_savings_usd", "What cache hits did not charge (USD)",
                                registry=registry)

    def looked_up(self, result: str) -> None:
        self._requests.labels(result).inc()

    def saved(self, amount: Decimal) -> None:
        self._savings.inc(float(amount))
