"""The catalog in SQL: read whole in two queries, replaced whole in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, Select, delete, literal_column, null, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.postgres.failures import database_guard
from adapters.postgres.tables import model_aliases, model_offers, models, providers
from domain.catalog import Catalog, Model, Offer, Provider, ProviderKind
from domain.errors import InvalidInput


def _rows_query() -> Select[Any]:
    """Active models with their offers, then their aliases, as one result: one round trip, and the
    ORDER BY groups each model's rows together (offers before aliases, each by position)."""
    offers_part = (
        select(models.c.id, models.c.name, models.c.context_length, models.c.max_output_tokens,
               models.c.created_at, literal_column("0", Integer).label("part"), model_offers.c.position,
               model_offers.c.provider_slug, model_offers.c.native_id, model_offers.c.input_per_mtok,
               model_offers.c.output_per_mtok, null().label("alias"))
        .select_from(models.outerjoin(model_offers, model_offers.c.model_id == models.c.id))
        .where(models.c.is_active)
    )
    aliases_part = (
        select(model_aliases.c.model_id, null(), null(), null(), null(), literal_column("1", Integer),
               model_aliases.c.position, null(), null(), null(), null(), model_aliases.c.alias)
        .join(models, models.c.id == model_aliases.c.model_id)
        .where(models.c.is_active)
    )
    union = union_all(offers_part, aliases_part).subquery()
    return select(union).order_by(union.c.id, union.c.part, union.c.position)


def _catalog_of(provider_rows: Sequence[Any], rows: Sequence[Any]) -> Catalog:
    found = [Provider(slug=r.slug, name=r.name, kind=ProviderKind(r.kind), base_url=r.base_url,
                      api_key_env=r.api_key_env, is_active=bool(r.is_active)) for r in provider_rows]
    heads: dict[str, Any] = {}
    offers: dict[str, list[Offer]] = {}
    aliases: dict[str, list[str]] = {}
    for r in rows:
        if r.part == 1:
            aliases.setdefault(r.id, []).append(r.alias)
            continue
        heads.setdefault(r.id, r)
        if r.provider_slug is not None:
            offers.setdefault(r.id, []).append(Offer(
                provider=r.provider_slug, native_id=r.native_id,
                input_per_mtok=_decimal(r.input_per_mtok), output_per_mtok=_decimal(r.output_per_mtok)))
    found_models = [
        Model(id=mid, name=h.name, context_length=h.context_length, max_output_tokens=h.max_output_tokens,
              aliases=tuple(aliases.get(mid, ())), offers=tuple(offers.get(mid, ())), created_at=h.created_at)
        for mid, h in heads.items()
    ]
    return Catalog.of(found, found_models)


def _decimal(value: Any) -> Decimal | None:
    """The union's later branches carry NULL types, so Money's result processing may not run."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))


class PostgresCatalogRepository:
    """Serves SQLite too: upserts use each dialect's ON CONFLICT, which both spell the same way."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def load(self) -> Catalog:
        async with database_guard(), self._engine.connect() as conn:
            provider_rows = (await conn.execute(select(providers).order_by(providers.c.slug))).all()
            rows = (await conn.execute(_rows_query())).all()
        return _catalog_of(provider_rows, rows)

    async def replace(self, providers_: list[Provider], models_: list[Model], *, now: datetime) -> dict[str, int]:
        try:
            async with database_guard(), self._engine.begin() as conn:
                return await self._replace(conn, providers_, models_, now)
        except IntegrityError as exc:
            raise InvalidInput(f"The catalog violates a database constraint: {exc.orig}", field="catalog") from exc

    async def _replace(self, conn: AsyncConnection, providers_: list[Provider], models_: list[Model],
                       now: datetime) -> dict[str, int]:
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        slugs = [p.slug for p in providers_]
        ids = [m.id for m in models_]
        if providers_:
            stmt = insert(providers)
            await conn.execute(stmt.on_conflict_do_update(index_elements=[providers.c.slug], set_={
                c: stmt.excluded[c] for c in ("name", "kind", "base_url", "api_key_env", "is_active", "updated_at")
            }), [{"slug": p.slug, "name": p.name, "kind": p.kind.value, "base_url": p.base_url,
                  "api_key_env": p.api_key_env, "is_active": True, "updated_at": now} for p in providers_])
        gone_providers = await conn.execute(
            update(providers).where(providers.c.slug.not_in(slugs), providers.c.is_active)
            .values(is_active=False, updated_at=now))
        if models_:
            stmt = insert(models)
            await conn.execute(stmt.on_conflict_do_update(index_elements=[models.c.id], set_={
                c: stmt.excluded[c] for c in ("name", "context_length", "max_output_tokens", "is_active",
                                              "updated_at")
            }), [{"id": m.id, "name": m.name, "context_length": m.context_length,
                  "max_output_tokens": m.max_output_tokens, "is_active": True, "created_at": now,
                  "updated_at": now} for m in models_])
        gone_models = await conn.execute(
            update(models).where(models.c.id.not_in(ids), models.c.is_active).values(is_active=False, updated_at=now))
        await conn.execute(delete(model_offers).where(model_offers.c.model_id.in_(ids)))
        offer_rows = [{"model_id": m.id, "provider_slug": o.provider, "position": i, "native_id": o.native_id,
                       "input_per_mtok": o.input_per_mtok, "output_per_mtok": o.output_per_mtok}
                      for m in models_ for i, o in enumerate(m.offers)]
        if offer_rows:
            await conn.execute(model_offers.insert(), offer_rows)
        # Aliases are replaced wholesale, so an alias may move from a retired model to a new one.
        await conn.execute(delete(model_aliases))
        alias_rows = [{"alias": a, "model_id": m.id, "position": i} for m in models_ for i, a in enumerate(m.aliases)]
        if alias_rows:
            await conn.execute(model_aliases.insert(), alias_rows)
        return {"providers": len(providers_), "models": len(models_), "offers": len(offer_rows),
                "aliases": len(alias_rows), "deactivated": gone_models.rowcount,
                "providers_deactivated": gone_providers.rowcount}
