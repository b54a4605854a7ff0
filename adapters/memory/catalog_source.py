"""A fixed catalog snapshot: the unit tests' CatalogSource."""

from __future__ import annotations

from domain.catalog import Catalog


class StaticCatalogSource:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def current(self) -> Catalog:
        return self.catalog

    async def refresh(self) -> Catalog:
        return self.catalog
