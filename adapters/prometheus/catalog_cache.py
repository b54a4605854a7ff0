"""catalog_cache_operations_total: admin refreshes of the catalog cache (#1625), by outcome."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class PrometheusCatalogCacheMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._operations = Counter("catalog_cache_operations_total", "Catalog cache operations",
                                   ["operation", "cache_layer", "result"], registry=registry)

    def count(self, operation: str, cache_layer: str, result: str) -> None:
        self._operations.labels(operation=operation, cache_layer=cache_layer, result=result).inc()
