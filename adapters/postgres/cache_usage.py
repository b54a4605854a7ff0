"""The cache analytics' figures (#1661, #1662): one GROUP BY over a user's completed request rows,
reading the seed's metadata keys (`butter_cache_hit`, `actual_cost_usd`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.failures import database_guard
from adapters.postgres.tables import chat_completion_requests as ccr
from domain.response_cache import ACTUAL_COST_KEY, HIT_KEY
from ports.response_cache import CacheUsage

_metadata = ccr.c["metadata"]
_hit = func.coalesce(_metadata[HIT_KEY].as_boolean(), False)
_saved = func.coalesce(_metadata[ACTUAL_COST_KEY].as_float(), 0.0)


class PostgresCacheUsageStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def cache_usage(self, user_id: int, since: datetime) -> list[CacheUsage]:
        statement = (select(ccr.c.model, ccr.c.provider, func.count().label("n"),
                            func.sum(case((_hit, 1), else_=0)).label("hits"),
                            func.sum(case((_hit, _saved), else_=0.0)).label("saved"))
                     .where(ccr.c.user_id == user_id, ccr.c.status == "completed", ccr.c.created_at >= since)
                     .group_by(ccr.c.model, ccr.c.provider).order_by(ccr.c.model, ccr.c.provider))
        async with database_guard(), self._engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
        return [CacheUsage(model=r.model, provider=r.provider, requests=int(r.n), hits=int(r.hits or 0),
                           savings=Decimal(str(r.saved or 0))) for r in rows]
