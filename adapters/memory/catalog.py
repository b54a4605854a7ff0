"""In-process catalog repository: the twin of the SQL one, constraints included."""

from __future__ import annotations

import asyncio
from datetime import datetime

from msgspec.structs import replace as _with

from domain.catalog import Catalog, Model, Provider
from domain.errors import InvalidInput


class MemoryCatalogRepository:
    """Keeps rows like the tables do (inactive ones too) and enforces what the schema enforces:
    offers name a stored provider, one offer per provider per model, an alias belongs to one model."""

    def __init__(self) -> None:
        self.providers: dict[str, Provider] = {}
        self.models: dict[str, Model] = {}
        self._lock = asyncio.Lock()

    async def load(self) -> Catalog:
        providers = [self.providers[s] for s in sorted(self.providers)]
        models = [self.models[i] for i in sorted(self.models)]
        return Catalog.of(providers, models)

    async def replace(self, providers: list[Provider], models: list[Model], *, now: datetime) -> dict[str, int]:
        async with self._lock:
            new_providers = dict(self.providers)
            gone_providers = 0
            given = {p.slug for p in providers}
            for slug, p in list(new_providers.items()):
                if slug not in given and p.is_active:
                    new_providers[slug] = _with(p, is_active=False)
                    gone_providers += 1
            for p in providers:
                new_providers[p.slug] = _with(p, is_active=True)
            self._check(new_providers, models)

            new_models = dict(self.models)
            ids = {m.id for m in models}
            gone_models = 0
            for mid, m in list(new_models.items()):
                if mid not in ids:
                    if m.is_active:
                        gone_models += 1
                    new_models[mid] = _with(m, is_active=False, aliases=())  # aliases are replaced wholesale
            for m in models:
                old = self.models.get(m.id)
                created = old.created_at if old is not None and old.created_at is not None else now
                new_models[m.id] = _with(m, is_active=True, created_at=created)
            self.providers, self.models = new_providers, new_models
        return {"providers": len(providers), "models": len(models),
                "offers": sum(len(m.offers) for m in models), "aliases": sum(len(m.aliases) for m in models),
                "deactivated": gone_models, "providers_deactivated": gone_providers}

    @staticmethod
    def _check(providers: dict[str, Provider], models: list[Model]) -> None:
        owners: dict[str, str] = {}
        for m in models:
            offered = [o.provider for o in m.offers]
            if len(set(offered)) != len(offered) or any(slug not in providers for slug in offered):
                raise InvalidInput(f"The catalog violates a database constraint: offers of {m.id}", field="catalog")
            for alias in m.aliases:
                if owners.setdefault(alias, m.id) != m.id or m.aliases.count(alias) > 1:
                    raise InvalidInput(f"The catalog violates a database constraint: alias {alias}", field="catalog")
