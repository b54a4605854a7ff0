"""In-process twins of downtime_incidents and of the held-incident store."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import msgspec

from domain.errors import ServiceUnavailable
from domain.incidents import (
    CheckName,
    Incident,
    IncidentCounts,
    IncidentFilter,
    IncidentStatus,
    StatisticsRow,
    duration_seconds,
)


def _matches(incident: Incident, filters: IncidentFilter) -> bool:
    return ((filters.status is None or incident.status is filters.status)
            and (filters.severity is None or incident.severity is filters.severity)
            and (filters.environment is None or incident.environment == filters.environment))


def _newest_first(incidents: list[Incident]) -> list[Incident]:
    return sorted(incidents, key=lambda i: (-i.started_at.timestamp(), i.id))


class MemoryIncidentRepository:
    """`down = True` makes every call fail as a lost database does (detection tests)."""

    def __init__(self) -> None:
        self.rows: dict[str, Incident] = {}
        self.down = False

    def _available(self) -> None:
        if self.down:
            raise ServiceUnavailable("Database unavailable", reason="database")

    async def open(self, incident: Incident) -> Incident | None:
        self._available()
        if incident.status is IncidentStatus.ONGOING and incident.check is not CheckName.MANUAL and any(
                i.status is IncidentStatus.ONGOING and i.check is incident.check for i in self.rows.values()):
            return None
        self.rows[incident.id] = copy.deepcopy(incident)
        return incident

    async def get(self, incident_id: str) -> Incident | None:
        self._available()
        return self.rows.get(incident_id)

    async def search(self, filters: IncidentFilter, limit: int) -> list[Incident]:
        self._available()
        return _newest_first([i for i in self.rows.values() if _matches(i, filters)])[:limit]

    async def counts(self, filters: IncidentFilter) -> IncidentCounts:
        self._available()
        matching = [i for i in self.rows.values() if _matches(i, filters)]
        return IncidentCounts(total=len(matching),
                              ongoing=sum(1 for i in matching if i.status is IncidentStatus.ONGOING),
                              resolved=sum(1 for i in matching if i.status is IncidentStatus.RESOLVED))

    async def ongoing(self, check: CheckName | None = None) -> list[Incident]:
        self._available()
        return _newest_first([i for i in self.rows.values() if i.status is IncidentStatus.ONGOING
                              and (check is None or i.check is check)])

    async def statistics(self, since: datetime, until: datetime) -> list[StatisticsRow]:
        self._available()
        groups: dict[tuple[str, str], list[int]] = {}
        for i in self.rows.values():
            if since <= i.started_at <= until:
                group = groups.setdefault((str(i.severity), str(i.status)), [0, 0])
                group[0] += 1
                group[1] += i.duration_seconds or 0
        return [StatisticsRow(severity=s, status=st, count=n, downtime_seconds=d) for (s, st), (n, d) in groups.items()]

    async def store_logs(self, incident_id: str, logs: list[dict[str, Any]]) -> bool:
        self._available()
        incident = self.rows.get(incident_id)
        if incident is None:
            return False
        self.rows[incident_id] = msgspec.structs.replace(incident, logs_captured=copy.deepcopy(logs),
                                                         log_count=len(logs))
        return True

    async def resolve(self, incident_id: str, *, ended_at: datetime, resolved_by: str, notes: str | None,
                      capture_due_at: datetime | None) -> Incident | None:
        self._available()
        incident = self.rows.get(incident_id)
        if incident is None or incident.status is IncidentStatus.RESOLVED:
            return None
        resolved = msgspec.structs.replace(
            incident, status=IncidentStatus.RESOLVED, ended_at=ended_at, resolved_by=resolved_by,
            notes=incident.notes if notes is None else notes, capture_due_at=capture_due_at,
            duration_seconds=duration_seconds(incident.started_at, ended_at))
        self.rows[incident_id] = resolved
        return resolved

    async def due_captures(self, now: datetime) -> list[Incident]:
        self._available()
        due = [i for i in self.rows.values() if i.capture_due_at is not None and i.capture_due_at <= now]
        return sorted(due, key=lambda i: i.capture_due_at or now)

    async def capture_done(self, incident_id: str, due_at: datetime) -> None:
        self._available()
        incident = self.rows.get(incident_id)
        if incident is not None and incident.capture_due_at == due_at:
            self.rows[incident_id] = msgspec.structs.replace(incident, capture_due_at=None)


class MemoryHeldIncidents:
    """Without Redis: held in this process (the single process is the whole fleet)."""

    def __init__(self) -> None:
        self._held: dict[CheckName, Incident] = {}

    async def hold(self, incident: Incident) -> None:
        self._held[incident.check] = incident

    async def held(self) -> list[Incident]:
        return list(self._held.values())

    async def release(self, check: CheckName) -> None:
        self._held.pop(check, None)
