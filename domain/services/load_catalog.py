"""LoadCatalog: replace the stored catalog with a new one, then make every process reload it."""

from __future__ import annotations

from domain.catalog import Model, Provider, catalog_problems
from domain.errors import InvalidInput
from domain.invalidation import ALL, CATALOG_TOPIC
from ports.bus import CacheBus
from ports.catalog import CatalogRepository
from ports.clock import Clock


class LoadCatalog:
    def __init__(self, repository: CatalogRepository, bus: CacheBus, clock: Clock) -> None:
        self._repository = repository
        self._bus = bus
        self._clock = clock

    async def __call__(self, providers: list[Provider], models: list[Model]) -> dict[str, int]:
        """Checked again here whatever the source (file, API, test): an inconsistent catalog never
        reaches the store. Returns the repository's counts."""
        problems = catalog_problems(providers, models)
        if problems:
            raise InvalidInput("Invalid catalog: " + "; ".join(problems[:10]), field="catalog")
        counts = await self._repository.replace(providers, models, now=self._clock.now())
        await self._bus.publish(CATALOG_TOPIC, ALL)
        return counts
