"""The request log table, written in batches."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.failures import database_guard
from adapters.postgres.tables import chat_completion_requests as ccr
from adapters.postgres.tables import model_numbers, models
from domain.requests import RequestRecord

_FIELDS = [f for f in RequestRecord.__struct_fields__]


_model_number = (select(model_numbers.c.id).where(model_numbers.c.model_id == bindparam("model_name"))
                 .scalar_subquery())


def _row(r: RequestRecord) -> dict[str, Any]:
    return {**{f: getattr(r, f) for f in _FIELDS}, "model_name": r.model}


class PostgresRequestLogStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        dialect = engine.dialect.name
        builder = pg_insert if dialect == "postgresql" else sqlite_insert if dialect == "sqlite" else None
        self._insert = (builder(ccr).on_conflict_do_nothing(index_elements=["request_id"])  # type: ignore[operator]
                        if builder else insert(ccr)).values(model_id=_model_number)
        # each catalogued model served gets its integer id (the public throughput metrics' model_id)
        self._number = (builder(model_numbers).on_conflict_do_nothing(index_elements=["model_id"])  # type: ignore[operator]
                        if builder else insert(model_numbers)).from_select(
            ["model_id"], select(models.c.id).where(models.c.id.in_(bindparam("names", expanding=True))))

    async def add_many(self, records: list[RequestRecord]) -> None:
        if not records:
            return
        async with database_guard(), self._engine.begin() as conn:
            await conn.execute(self._number, {"names": sorted({r.model for r in records})})
            await conn.execute(self._insert, [_row(r) for r in records])

    async def get(self, request_id: str) -> RequestRecord | None:
        async with database_guard(), self._engine.connect() as conn:
            row = (await conn.execute(select(*(ccr.c[f] for f in _FIELDS))
                                      .where(ccr.c.request_id == request_id))).mappings().first()
        return RequestRecord(**dict(row)) if row else None
