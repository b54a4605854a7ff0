"""Where the catalog lives, and the fast read side the request path uses."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.catalog import Catalog, Model, Provider


class CatalogRepository(Protocol):
    async def load(self) -> Catalog:
        """The whole active catalog, as one snapshot."""
        ...

    async def replace(self, providers: list[Provider], models: list[Model], *, now: datetime) -> dict[str, int]:
        """Upsert everything given, deactivate models absent from it, in one transaction.
        Returns counts: providers, models, offers, aliases, deactivated."""
        ...


class CatalogSource(Protocol):
    """The request path's view: an in-process snapshot, refreshed when a reload is broadcast."""

    def current(self) -> Catalog: ...

    async def refresh(self) -> Catalog: ...

    def loaded_at(self) -> datetime | None:
        """When this process's snapshot was last loaded (None: never)."""
        ...

    def version(self) -> str:
        """A digest of the snapshot's content: every process holding the same catalog shows the same."""
        ...


class CatalogCacheMetrics(Protocol):
    def count(self, operation: str, cache_layer: str, result: str) -> None:
        """catalog_cache_operations_total{operation,cache_layer,result}."""
        ...
