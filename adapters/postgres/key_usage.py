"""Key last-use times in api_keys: one executemany per flush, only ever moving a time forward."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, or_, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.failures import database_guard
from adapters.postgres.tables import api_keys

_MARK = (update(api_keys)
         .where(api_keys.c.id == bindparam("key_id"),
                or_(api_keys.c.last_used_at.is_(None), api_keys.c.last_used_at < bindparam("at")))
         .values(last_used_at=bindparam("at")))


class PostgresKeyUsageStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def mark_used(self, uses: dict[int, datetime]) -> None:
        if not uses:
            return
        async with database_guard(), self._engine.begin() as conn:
            await conn.execute(_MARK, [{"key_id": k, "at": at} for k, at in sorted(uses.items())])
