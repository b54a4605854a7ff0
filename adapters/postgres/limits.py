"""rate_limit_configs: per-key overrides, upserted whole."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.failures import database_guard
from adapters.postgres.tables import rate_limit_configs as rlc
from domain import not_found
from domain.limits import KeyLimits

_FIELDS = list(KeyLimits.__struct_fields__)


class PostgresLimitConfigRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        dialect = engine.dialect.name
        self._builder = pg_insert if dialect == "postgresql" else sqlite_insert if dialect == "sqlite" else None

    async def get(self, api_key_id: int) -> KeyLimits | None:
        async with database_guard(), self._engine.connect() as conn:
            row = (await conn.execute(select(*(rlc.c[f] for f in _FIELDS))
                                      .where(rlc.c.api_key_id == api_key_id))).mappings().first()
        return KeyLimits(**dict(row)) if row else None

    async def put(self, api_key_id: int, limits: KeyLimits, *, now: datetime) -> KeyLimits:
        values = {f: getattr(limits, f) for f in _FIELDS}
        if self._builder is None:  # pragma: no cover - only PostgreSQL and SQLite are supported
            statement = insert(rlc)
        else:
            statement = self._builder(rlc).on_conflict_do_update(  # type: ignore[operator]
                index_elements=["api_key_id"], set_={**values, "updated_at": now})
        try:
            async with database_guard(), self._engine.begin() as conn:
                await conn.execute(statement.values(api_key_id=api_key_id, created_at=now, updated_at=now, **values))
        except IntegrityError as exc:  # the key does not exist (foreign key)
            raise not_found.api_key(api_key_id) from exc
        return limits
