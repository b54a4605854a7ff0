"""HTTP metrics, labelled by route template (never the raw path) to keep cardinality bounded."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter("http_requests_total", "HTTP requests by route template and status",
                                ["method", "endpoint", "status"], registry=registry)
        self.duration = Histogram("http_request_duration_seconds", "HTTP request duration",
                                  ["method", "endpoint"], buckets=DURATION_BUCKETS, registry=registry)
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        key = (method, endpoint, status)
        child = self._children.get(key)
        if child is None:
            child = (self.requests.labels(method, endpoint, str(status)), self.duration.labels(method, endpoint))
            self._children[key] = child
        child[0].inc()
        child[1].observe(seconds)
