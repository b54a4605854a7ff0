"""Helpers of the admin-surface tests (issue 14): bulk seeding and statement counters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.engine import create_engine
from tests.harness import Running


async def insert_rows(r: Running, table: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    engine: AsyncEngine = await r.service("engine")
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:  # an executemany needs one set of columns
        shapes.setdefault(tuple(sorted(row)), []).append(row)
    async with engine.begin() as conn:
        for group in shapes.values():
            for start in range(0, len(group), 5000):
                await conn.execute(insert(table), group[start:start + 5000])


async def execute(database_url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(sql), params)
            return list(result.mappings()) if result.returns_rows else []
    finally:
        await engine.dispose()


class Counter:
    """Statements and fetched rows through SQLAlchemy's event hooks, for the statement budgets. The
    asyncpg adapter's cursor holds a statement's whole result once executed, so its length is the
    number of rows the database sent."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.statements = 0
        self.rows = 0
        self._engine = engine.sync_engine
        event.listen(self._engine, "after_cursor_execute", self._count)

    def _count(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements += 1
        self.rows += len(getattr(cursor, "_rows", ()) or ())

    def reset(self) -> None:
        self.statements = 0
        self.rows = 0

    def close(self) -> None:
        event.remove(self._engine, "after_cursor_execute", self._count)


def now() -> datetime:
    return datetime.now(UTC)
