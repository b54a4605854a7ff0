"""downtime_incidents over PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.failures import database_guard
from adapters.postgres.tables import downtime_incidents as di
from domain.incidents import (
    CheckName,
    Incident,
    IncidentCounts,
    IncidentFilter,
    IncidentStatus,
    Severity,
    StatisticsRow,
    duration_seconds,
)

_COLUMNS = [c.name for c in di.columns]


def _row(row: Mapping[str, Any]) -> Incident:
    values = dict(row)
    values["id"] = str(values["id"])
    values["check"] = CheckName(values["check"])
    values["status"] = IncidentStatus(values["status"])
    values["severity"] = Severity(values["severity"])
    return Incident(**values)


def _values(incident: Incident) -> dict[str, Any]:
    return {name: (str(v) if name in ("check", "status", "severity") else v)
            for name in _COLUMNS for v in (getattr(incident, name),)}


def _where(filters: IncidentFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.status is not None:
        where.append(di.c.status == str(filters.status))
    if filters.severity is not None:
        where.append(di.c.severity == str(filters.severity))
    if filters.environment is not None:
        where.append(di.c.environment == filters.environment)
    return where


class PostgresIncidentRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def open(self, incident: Incident) -> Incident | None:
        try:
            async with database_guard(), self._engine.begin() as conn:
                await conn.execute(insert(di).values(**_values(incident)))
        except IntegrityError:  # uq_downtime_incidents_ongoing_check: that check has an ongoing incident
            return None
        return incident

    async def get(self, incident_id: str) -> Incident | None:
        async with database_guard(), self._engine.connect() as conn:
            row = (await conn.execute(select(di).where(di.c.id == incident_id))).mappings().first()
        return _row(row) if row else None

    async def search(self, filters: IncidentFilter, limit: int) -> list[Incident]:
        query = select(di).where(*_where(filters)).order_by(di.c.started_at.desc(), di.c.id).limit(limit)
        async with database_guard(), self._engine.connect() as conn:
            return [_row(r) for r in (await conn.execute(query)).mappings()]

    async def counts(self, filters: IncidentFilter) -> IncidentCounts:
        query = select(di.c.status, func.count()).where(*_where(filters)).group_by(di.c.status)
        async with database_guard(), self._engine.connect() as conn:
            by_status = {status: int(n) for status, n in (await conn.execute(query)).all()}
        return IncidentCounts(total=sum(by_status.values()), ongoing=by_status.get("ongoing", 0),
                              resolved=by_status.get("resolved", 0))

    async def ongoing(self, check: CheckName | None = None) -> list[Incident]:
        where = [di.c.status == "ongoing"] + ([di.c.check == str(check)] if check is not None else [])
        query = select(di).where(*where).order_by(di.c.started_at.desc(), di.c.id)
        async with database_guard(), self._engine.connect() as conn:
            return [_row(r) for r in (await conn.execute(query)).mappings()]

    async def statistics(self, since: datetime, until: datetime) -> list[StatisticsRow]:
        query = (select(di.c.severity, di.c.status, func.count(), func.coalesce(func.sum(di.c.duration_seconds), 0))
                 .where(di.c.started_at >= since, di.c.started_at <= until)
                 .group_by(di.c.severity, di.c.status))
        async with database_guard(), self._engine.connect() as conn:
            return [StatisticsRow(severity=sev, status=st, count=int(n), downtime_seconds=int(total))
                    for sev, st, n, total in (await conn.execute(query)).all()]

    async def store_logs(self, incident_id: str, logs: list[dict[str, Any]]) -> bool:
        async with database_guard(), self._engine.begin() as conn:
            result = await conn.execute(update(di).where(di.c.id == incident_id)
                                        .values(logs_captured=logs, log_count=len(logs)))
        return bool(result.rowcount)

    async def resolve(self, incident_id: str, *, ended_at: datetime, resolved_by: str, notes: str | None,
                      capture_due_at: datetime | None) -> Incident | None:
        changes: dict[str, Any] = {"status": "resolved", "ended_at": ended_at, "resolved_by": resolved_by,
                                   "capture_due_at": capture_due_at}
        if notes is not None:
            changes["notes"] = notes
        async with database_guard(), self._engine.begin() as conn:
            row = (await conn.execute(update(di).where(di.c.id == incident_id, di.c.status != "resolved")
                                      .values(**changes).returning(*di.columns))).mappings().first()
            if row is None:
                return None
            incident = _row(row)
            duration = duration_seconds(incident.started_at, ended_at)
            await conn.execute(update(di).where(di.c.id == incident_id).values(duration_seconds=duration))
        return Incident(**{**{n: getattr(incident, n) for n in _COLUMNS}, "duration_seconds": duration})

    async def due_captures(self, now: datetime) -> list[Incident]:
        query = select(di).where(di.c.capture_due_at.is_not(None), di.c.capture_due_at <= now) \
            .order_by(di.c.capture_due_at)
        async with database_guard(), self._engine.connect() as conn:
            return [_row(r) for r in (await conn.execute(query)).mappings()]

    async def capture_done(self, incident_id: str, due_at: datetime) -> None:
        async with database_guard(), self._engine.begin() as conn:
            await conn.execute(update(di).where(and_(di.c.id == incident_id, di.c.capture_due_at == due_at))
                               .values(capture_due_at=None))
