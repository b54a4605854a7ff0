"""A fixed catalog snapshot: the unit tests' CatalogSource."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.catalog import Catalog, catalog_version


class StaticCatalogSource:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._at = datetime.now(UTC)

    def current(self) -> Catalog:
        return self.catalog

    async def refresh(self) -> Catalog:
        return self.catalog

    def loaded_at(self) -> datetime | None:
        return self._at

    def version(self) -> str:
        return catalog_version(self.catalog)
