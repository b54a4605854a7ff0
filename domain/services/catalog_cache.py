"""The catalog cache as an operator sees it (#1603 status, #1605 debug view, #1625 refresh). The
status reads this process's snapshot and never triggers a load; a refresh reloads this process
synchronously (so a status right after shows it), then broadcasts so every other process reloads."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import msgspec

from domain.audit import AuditEvent
from domain.invalidation import CATALOG_TOPIC
from ports.bus import CacheBus
from ports.catalog import CatalogCacheMetrics, CatalogSource
from ports.clock import Clock
from ports.uow import UnitOfWorkFactory

REFRESH_PROVIDERS = "admin.refresh_providers"
_SECRET_WORDS = ("key", "secret", "token", "password")


def redacted(data: Any) -> Any:
    """Any mapping key naming a key, secret, token or password has its value replaced by `***`."""
    if isinstance(data, dict):
        return {k: "***" if any(w in str(k).lower() for w in _SECRET_WORDS) else redacted(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [redacted(v) for v in data]
    return data


class CatalogCache:
    def __init__(self, source: CatalogSource, bus: CacheBus, uow: UnitOfWorkFactory, clock: Clock,
                 metrics: CatalogCacheMetrics, ttl_s: int) -> None:
        self._source = source
        self._bus = bus
        self._uow = uow
        self._clock = clock
        self._metrics = metrics
        self.ttl_s = ttl_s

    def age_s(self) -> float | None:
        at = self._source.loaded_at()
        return None if at is None else max((self._clock.now() - at).total_seconds(), 0.0)

    def status(self) -> dict[str, Any]:
        catalog = self._source.current()
        age = self.age_s()
        has_data = bool(catalog.providers) and age is not None
        return {"has_data": has_data, "cache_age_seconds": round(age, 3) if has_data and age is not None else None,
                "ttl_seconds": self.ttl_s, "is_valid": has_data and age is not None and age < self.ttl_s,
                "total_cached_providers": len(catalog.providers), "scope": "process", "pid": os.getpid(),
                "catalog_version": self._source.version()}

    async def refresh(self, *, admin_id: int) -> int:
        try:
            catalog = await self._source.refresh()
            await self._bus.publish(CATALOG_TOPIC, "admin-refresh")
        except Exception:
            self._metrics.count("refresh", "process", "error")
            raise
        self._metrics.count("refresh", "process", "success")
        async with self._uow() as uow:
            await uow.audit.record(AuditEvent(event_type=REFRESH_PROVIDERS, created_at=self._clock.now(),
                                              user_id=admin_id, details={"actor": admin_id, "target": "catalog",
                                                                         "providers": len(catalog.providers)}))
            await uow.commit()
        return len(catalog.providers)

    def debug(self) -> dict[str, Any]:
        catalog = self._source.current()
        at: datetime | None = self._source.loaded_at()
        stamp = at.isoformat() if at else None
        age = self.age_s()
        models = list(catalog.models.values())
        providers = list(catalog.providers.values())

        def plain(item: Any) -> Any:
            return redacted(msgspec.to_builtins(item))

        matching = []
        for model in models[:2]:
            slug = model.id.split("/", 1)[0] if "/" in model.id else None
            found = catalog.providers.get(slug) if slug else None
            matching.append({"model_id": model.id, "provider_slug": slug, "found_provider": found is not None,
                             "provider_site_url": found.base_url if found else None,
                             "provider_data": plain(found) if found else None})
        return {"models_cache": {"total_models": len(models), "sample_models": [plain(m) for m in models[:3]],
                                 "cache_timestamp": stamp, "cache_age_seconds": age},
                "providers_cache": {"total_providers": len(providers),
                                    "sample_providers": [plain(p) for p in providers[:3]],
                                    "cache_timestamp": stamp, "cache_age_seconds": age},
                "provider_matching_test": matching}
