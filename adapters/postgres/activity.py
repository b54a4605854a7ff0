"""A user's own activity over chat_completion_requests: the page and one GROUP BY per breakdown."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, String, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.failures import database_guard
from adapters.postgres.tables import api_keys
from adapters.postgres.tables import chat_completion_requests as ccr
from adapters.postgres.types import MONEY_SCALE
from domain.activity import ActivityEntry, ActivityFilter, ActivityPage, UsageGroup
from ports.activity import GroupBy


def _where(user_id: int, where: ActivityFilter) -> list[Any]:
    conditions: list[Any] = [ccr.c.user_id == user_id]
    if where.since is not None:
        conditions.append(ccr.c.created_at >= where.since)
    if where.until is not None:
        conditions.append(ccr.c.created_at < where.until)
    if where.model:
        conditions.append(ccr.c.model == where.model)
    if where.provider:
        conditions.append(ccr.c.provider == where.provider)
    if where.status:
        conditions.append(ccr.c.status == where.status)
    return conditions


class PostgresActivityQueries:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"

    def _day(self) -> Any:
        if self._sqlite:  # stored as naive UTC text
            return func.substr(cast(ccr.c.created_at, String), 1, 10)
        return func.to_char(func.timezone("UTC", ccr.c.created_at), "YYYY-MM-DD")

    def _cost_sum(self) -> Any:
        """Exact on both: SQLite keeps money as fixed 10-decimal text, summed as integer units of 1e-10."""
        if self._sqlite:
            return func.sum(cast(func.replace(ccr.c.cost_usd, ".", ""), Integer))
        return func.sum(ccr.c.cost_usd)

    def _cost(self, value: Any) -> Decimal:
        if value is None:
            return Decimal(0)
        return Decimal(int(value)).scaleb(-MONEY_SCALE) if self._sqlite else Decimal(value)

    async def log(self, user_id: int, where: ActivityFilter, *, limit: int, offset: int) -> ActivityPage:
        conditions = _where(user_id, where)
        query = (select(ccr.c.request_id, ccr.c.created_at, ccr.c.model, ccr.c.provider, ccr.c.input_tokens,
                        ccr.c.output_tokens, ccr.c.cost_usd, ccr.c.processing_time_ms, ccr.c.time_to_first_token_ms,
                        ccr.c.status, ccr.c.api_key_id, api_keys.c.name.label("key_name"))
                 .select_from(ccr.outerjoin(api_keys, api_keys.c.id == ccr.c.api_key_id))
                 .where(*conditions).order_by(ccr.c.created_at.desc(), ccr.c.id.desc()).limit(limit).offset(offset))
        async with database_guard(), self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
            total = int((await conn.execute(select(func.count()).select_from(ccr).where(*conditions))).scalar_one())
        return ActivityPage(entries=[ActivityEntry(**dict(r)) for r in rows], total=total)

    async def usage(self, user_id: int, *, since: datetime, until: datetime, by: GroupBy) -> list[UsageGroup]:
        key: Any = {"model": ccr.c.model, "provider": ccr.c.provider, "key": ccr.c.api_key_id, "day": self._day(),
                    "all": None}[by]
        sums = [func.count().label("requests"),
                func.sum(case((ccr.c.status == "completed", 1), else_=0)).label("completed"),
                func.sum(case((ccr.c.status == "failed", 1), else_=0)).label("failed"),
                func.sum(ccr.c.input_tokens).label("input_tokens"),
                func.sum(ccr.c.output_tokens).label("output_tokens"),
                func.sum(cast(ccr.c.processing_time_ms, Integer)).label("processing_time_ms"),
                self._cost_sum().label("cost")]
        columns = [*sums]
        if key is not None:
            columns.insert(0, key.label("key"))
        query = select(*columns).where(*_where(user_id, ActivityFilter(since=since, until=until)))
        if key is not None:
            query = query.group_by(key)
        async with database_guard(), self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
            names = await self._key_names(conn, [r["key"] for r in rows]) if by == "key" else {}
        groups = []
        for r in rows:
            if not r["requests"]:
                continue
            k = r["key"] if key is not None else None
            groups.append(UsageGroup(
                key=None if k is None else str(k), requests=int(r["requests"]), completed=int(r["completed"] or 0),
                failed=int(r["failed"] or 0), input_tokens=int(r["input_tokens"] or 0),
                output_tokens=int(r["output_tokens"] or 0), cost_usd=self._cost(r["cost"]),
                processing_time_ms=int(r["processing_time_ms"] or 0), label=names.get(k)))
        return groups

    @staticmethod
    async def _key_names(conn: Any, ids: list[Any]) -> dict[Any, str]:
        wanted = [i for i in ids if i is not None]
        if not wanted:
            return {}
        rows = await conn.execute(select(api_keys.c.id, api_keys.c.name).where(api_keys.c.id.in_(wanted)))
        return {r.id: r.name for r in rows}
