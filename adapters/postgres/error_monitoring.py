"""error_patterns and error_monitor_state over PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.postgres.failures import database_guard
from adapters.postgres.tables import error_monitor_state as ems
from adapters.postgres.tables import error_patterns as ep
from adapters.postgres.tables import generated_fixes as gf
from domain.error_monitoring import (
    ErrorCategory,
    ErrorPattern,
    ErrorSeverity,
    FixStatus,
    GeneratedFix,
    MonitorState,
    merge,
)

_FIELDS = list(ErrorPattern.__struct_fields__)


def _pattern(row: Mapping[str, Any]) -> ErrorPattern:
    values = dict(row)
    values["category"] = ErrorCategory(values["category"])
    values["severity"] = ErrorSeverity(values["severity"])
    values["count"] = int(values["count"])
    values["examples"] = list(values["examples"] or [])
    return ErrorPattern(**values)


def _values(p: ErrorPattern) -> dict[str, Any]:
    values = {f: getattr(p, f) for f in _FIELDS}
    values["category"], values["severity"] = str(p.category), str(p.severity)
    return values


class PostgresErrorPatternStore:
    def __init__(self, engine: AsyncEngine, initial: MonitorState | None = None) -> None:
        self._engine = engine
        self._initial = initial or MonitorState()

    async def merge(self, patterns: list[ErrorPattern]) -> list[ErrorPattern]:
        for _ in range(3):  # a concurrent first insert of the same key: read it and merge again
            try:
                async with database_guard(), self._engine.begin() as conn:
                    return [await self._merge_one(conn, p) for p in patterns]
            except IntegrityError:
                continue
        raise RuntimeError("error pattern merge kept conflicting")  # pragma: no cover

    async def _merge_one(self, conn: AsyncConnection, pattern: ErrorPattern) -> ErrorPattern:
        query = select(ep).where(ep.c.key == pattern.key)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await conn.execute(query)).mappings().first()
        if row is None:
            await conn.execute(insert(ep).values(**_values(pattern)))
            return pattern
        merged = merge(_pattern(row), pattern)
        values = _values(merged)
        del values["key"]
        await conn.execute(update(ep).where(ep.c.key == pattern.key).values(**values))
        return merged

    async def page(self, limit: int, offset: int) -> tuple[list[ErrorPattern], int]:
        async with database_guard(), self._engine.connect() as conn:
            rows = (await conn.execute(select(ep).order_by(ep.c.last_seen.desc(), ep.c.key)
                                       .limit(limit).offset(offset))).mappings()
            patterns = [_pattern(r) for r in rows]
            total = (await conn.execute(select(func.count()).select_from(ep))).scalar_one()
        return patterns, int(total)

    async def get(self, key: str) -> ErrorPattern | None:
        async with database_guard(), self._engine.connect() as conn:
            row = (await conn.execute(select(ep).where(ep.c.key == key))).mappings().first()
        return _pattern(row) if row else None

    async def matching(self, keys_or_types: list[str]) -> list[ErrorPattern]:
        if not keys_or_types:
            return []
        query = select(ep).where(or_(ep.c.key.in_(keys_or_types), ep.c.error_type.in_(keys_or_types))) \
            .order_by(ep.c.last_seen.desc(), ep.c.key)
        async with database_guard(), self._engine.connect() as conn:
            return [_pattern(r) for r in (await conn.execute(query)).mappings()]

    async def counts_by_category(self) -> dict[str, int]:
        query = select(ep.c.category, func.sum(ep.c.count)).group_by(ep.c.category)
        async with database_guard(), self._engine.connect() as conn:
            return {c: int(n) for c, n in (await conn.execute(query)).all()}

    async def state(self) -> MonitorState:
        async with database_guard(), self._engine.connect() as conn:
            row = (await conn.execute(select(ems).where(ems.c.id == 1))).mappings().first()
        if row is None:
            return self._initial
        return MonitorState(enabled=row["enabled"], interval_s=row["interval_s"], auto_fix=row["auto_fix"],
                            last_scan=row["last_scan"], cursor_ns=row["cursor_ns"],
                            cursor_hashes=list(row["cursor_hashes"] or []),
                            errors_since_last_fix=int(row["errors_since_last_fix"]))

    async def _update(self, conn: AsyncConnection, **values: Any) -> None:
        """Update the one row, creating it from the initial state first when missing."""
        result = await conn.execute(update(ems).where(ems.c.id == 1).values(**values))
        if result.rowcount:
            return
        i = self._initial
        builder = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        await conn.execute(builder(ems).values(id=1, enabled=i.enabled, interval_s=i.interval_s, auto_fix=i.auto_fix,
                                               cursor_hashes=[]).on_conflict_do_nothing())  # or made concurrently
        await conn.execute(update(ems).where(ems.c.id == 1).values(**values))

    async def set_desired(self, *, enabled: bool, interval_s: int | None = None, auto_fix: bool | None = None) -> None:
        values: dict[str, Any] = {"enabled": enabled}
        if interval_s is not None:
            values["interval_s"] = interval_s
        if auto_fix is not None:
            values["auto_fix"] = auto_fix
        async with database_guard(), self._engine.begin() as conn:
            await self._update(conn, **values)

    async def record_scan(self, *, at: datetime, cursor_ns: int | None, cursor_hashes: list[str],
                          occurrences: int) -> None:
        async with database_guard(), self._engine.begin() as conn:
            await self._update(conn, last_scan=at, cursor_ns=cursor_ns, cursor_hashes=cursor_hashes,
                               errors_since_last_fix=ems.c.errors_since_last_fix + occurrences)

    async def fix_generated(self) -> None:
        async with database_guard(), self._engine.begin() as conn:
            await self._update(conn, errors_since_last_fix=0)


def _fix(row: Mapping[str, Any]) -> GeneratedFix:
    values = dict(row)
    values["id"] = str(values["id"])
    values["status"] = FixStatus(values["status"])
    values["code_changes"] = dict(values["code_changes"] or {})
    values["files_affected"] = list(values["files_affected"] or [])
    return GeneratedFix(**values)


class PostgresFixStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def save(self, fix: GeneratedFix) -> GeneratedFix:
        values = {f: getattr(fix, f) for f in GeneratedFix.__struct_fields__}
        values["status"] = str(fix.status)
        async with database_guard(), self._engine.begin() as conn:
            result = await conn.execute(update(gf).where(gf.c.id == fix.id).values(
                **{k: v for k, v in values.items() if k != "id"}))
            if not result.rowcount:
                await conn.execute(insert(gf).values(**values))
        return fix

    async def get(self, fix_id: str) -> GeneratedFix | None:
        async with database_guard(), self._engine.connect() as conn:
            row = (await conn.execute(select(gf).where(gf.c.id == fix_id))).mappings().first()
        return _fix(row) if row else None

    async def page(self, limit: int, offset: int) -> tuple[list[GeneratedFix], int]:
        async with database_guard(), self._engine.connect() as conn:
            rows = (await conn.execute(select(gf).order_by(gf.c.generated_at.desc(), gf.c.id)
                                       .limit(limit).offset(offset))).mappings()
            fixes = [_fix(r) for r in rows]
            total = (await conn.execute(select(func.count()).select_from(gf))).scalar_one()
        return fixes, int(total)

    async def with_open_pull_requests(self) -> list[GeneratedFix]:
        query = select(gf).where(gf.c.status == "testing", gf.c.pr_number.is_not(None)).order_by(gf.c.generated_at)
        async with database_guard(), self._engine.connect() as conn:
            return [_fix(r) for r in (await conn.execute(query)).mappings()]

    async def count_since(self, since: datetime) -> int:
        async with database_guard(), self._engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(gf)
                                           .where(gf.c.generated_at >= since))).scalar_one())
