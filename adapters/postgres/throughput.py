"""The request-log figures behind the public tokens-per-second metrics (#1706, #1707)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.failures import database_guard
from adapters.postgres.tables import chat_completion_requests as ccr
from adapters.postgres.tables import model_numbers, models
from domain.throughput import Throughput, UsagePair


class PostgresThroughputStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def usage_pairs(self) -> list[UsagePair]:
        statement = (select(ccr.c.model_id, ccr.c.provider, func.count().label("n"))
                     .where(ccr.c.status == "completed", ccr.c.model_id.is_not(None), ccr.c.provider.is_not(None))
                     .group_by(ccr.c.model_id, ccr.c.provider))
        async with database_guard(), self._engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
        return [UsagePair(model_id=r.model_id, provider=r.provider, requests=int(r.n)) for r in rows]

    async def throughput(self, model_id: int, provider: str, *, since: datetime | None) -> Throughput | None:
        statement = (select(func.count().label("n"),
                            func.coalesce(func.sum(ccr.c.input_tokens + ccr.c.output_tokens), 0).label("tokens"),
                            func.coalesce(func.sum(ccr.c.processing_time_ms), 0).label("ms"))
                     .where(ccr.c.model_id == model_id, ccr.c.provider == provider, ccr.c.status == "completed"))
        if since is not None:
            statement = statement.where(ccr.c.created_at >= since)
        name = (select(models.c.name).join(model_numbers, model_numbers.c.model_id == models.c.id)
                .where(model_numbers.c.id == model_id).scalar_subquery())
        statement = statement.add_columns(name.label("name"))
        async with database_guard(), self._engine.connect() as conn:
            row = (await conn.execute(statement)).one()
        if not row.n or row.name is None:
            return None
        return Throughput(model=row.name, provider=provider, requests=int(row.n), total_tokens=int(row.tokens),
                          total_ms=int(row.ms))

    async def model_number(self, model: str) -> int | None:
        async with database_guard(), self._engine.connect() as conn:
            return (await conn.execute(select(model_numbers.c.id).where(model_numbers.c.model_id == model))).scalar()
