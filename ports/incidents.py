"""Persistence of downtime incidents, and where an incident waits while the database is down."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from domain.incidents import CheckName, Incident, IncidentCounts, IncidentFilter, StatisticsRow


class IncidentRepository(Protocol):
    """Adapters that lose their database raise ServiceUnavailable."""

    async def open(self, incident: Incident) -> Incident | None:
        """Insert; None when an ongoing incident of the same check exists already (never two)."""
        ...

    async def get(self, incident_id: str) -> Incident | None: ...

    async def search(self, filters: IncidentFilter, limit: int) -> list[Incident]:
        """`started_at` descending."""
        ...

    async def counts(self, filters: IncidentFilter) -> IncidentCounts:
        """Over every incident matching the filters, not just one page."""
        ...

    async def ongoing(self, check: CheckName | None = None) -> list[Incident]:
        """Status `ongoing` only (not `investigating`), `started_at` descending."""
        ...

    async def statistics(self, since: datetime, until: datetime) -> list[StatisticsRow]:
        """One aggregate over incidents with `started_at` in `[since, until]`."""
        ...

    async def store_logs(self, incident_id: str, logs: list[dict[str, Any]]) -> bool:
        """Replace the captured logs (and `log_count`); False when there is no such incident."""
        ...

    async def resolve(self, incident_id: str, *, ended_at: datetime, resolved_by: str, notes: str | None,
                      capture_due_at: datetime | None) -> Incident | None:
        """One conditional update (`WHERE id = ? AND status <> 'resolved'`) that also sets
        `duration_seconds`; `notes` None keeps the existing notes. None when nothing was updated."""
        ...

    async def due_captures(self, now: datetime) -> list[Incident]:
        """Incidents whose `capture_due_at` has passed."""
        ...

    async def capture_done(self, incident_id: str, due_at: datetime) -> None:
        """Clear `capture_due_at` if it still equals `due_at` (a newer schedule survives)."""
        ...


class HeldIncidents(Protocol):
    """Incidents opened (and maybe resolved) while the database was down, keyed by check; written
    with their original times once it answers."""

    async def hold(self, incident: Incident) -> None: ...

    async def held(self) -> list[Incident]: ...

    async def release(self, check: CheckName) -> None: ...
