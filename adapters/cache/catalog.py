"""The request path's catalog: an in-process snapshot, swapped whole when a load is broadcast."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import structlog

from domain.catalog import EMPTY_CATALOG, Catalog, catalog_version
from domain.invalidation import CATALOG_TOPIC
from ports.bus import CacheBus
from ports.catalog import CatalogRepository

log = structlog.get_logger(__name__)


class CachedCatalog:
    """`current()` is an attribute read: the hot path never waits on the database. A refresh that
    fails (database lost) keeps the previous snapshot, so an outage never empties the catalog; a
    failed first load is retried in the background until it succeeds."""

    def __init__(self, repository: CatalogRepository, bus: CacheBus, *, retry_s: float = 2.0) -> None:
        self._repository = repository
        self._snapshot: Catalog = EMPTY_CATALOG
        self._loaded = False
        self._loaded_at: datetime | None = None
        self._version = catalog_version(EMPTY_CATALOG)
        self._lock = asyncio.Lock()
        self._retry_s = retry_s
        self._retry: asyncio.Task[None] | None = None
        bus.subscribe(CATALOG_TOPIC, self._on_reload)

    def current(self) -> Catalog:
        return self._snapshot

    @property
    def loaded(self) -> bool:
        return self._loaded

    async def refresh(self) -> Catalog:
        """Reload from the repository; on failure log and keep (and return) the old snapshot."""
        async with self._lock:  # serialised, so an older load can never overwrite a newer one
            try:
                self._snapshot = await self._repository.load()
            except Exception as exc:
                log.warning("catalog_refresh_failed", error=str(exc), error_type=type(exc).__name__,
                            kept_models=len(self._snapshot.models))
                return self._snapshot
            self._loaded = True
            self._loaded_at = datetime.now(UTC)
            self._version = catalog_version(self._snapshot)
            return self._snapshot

    def loaded_at(self) -> datetime | None:
        return self._loaded_at

    def version(self) -> str:
        return self._version

    async def start(self) -> None:
        """The first load, awaited before the app serves; retried in the background if it fails."""
        await self.refresh()
        if not self._loaded and self._retry is None:
            self._retry = asyncio.create_task(self._retry_until_loaded(), name="catalog-initial-load")

    async def stop(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retry
            self._retry = None

    async def _retry_until_loaded(self) -> None:
        delay = self._retry_s
        while not self._loaded:
            await asyncio.sleep(delay)
            await self.refresh()
            delay = min(delay * 2, 60.0)

    async def _on_reload(self, _message: str) -> None:
        await self.refresh()
