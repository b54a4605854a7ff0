"""ResolveIncident (#1744): one conditional update, so of concurrent resolves exactly one wins."""

from __future__ import annotations

from datetime import timedelta

from domain import not_found
from domain.incidents import CAPTURE_TAIL_S, Incident, IncidentRefused, is_incident_id
from ports.clock import Clock
from ports.incidents import IncidentRepository


class ResolveIncident:
    def __init__(self, repo: IncidentRepository, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock

    async def __call__(self, incident_id: str, *, resolved_by: str, notes: str | None) -> Incident:
        """Sets ended_at, duration_seconds and resolved_by, and schedules the post-incident capture
        (5 minutes after the end). `notes` None keeps the existing notes."""
        if not is_incident_id(incident_id):
            raise not_found.incident()
        now = self._clock.now()
        resolved = await self._repo.resolve(incident_id, ended_at=now, resolved_by=resolved_by, notes=notes,
                                            capture_due_at=now + timedelta(seconds=CAPTURE_TAIL_S))
        if resolved is not None:
            return resolved
        if await self._repo.get(incident_id) is None:
            raise not_found.incident()
        raise IncidentRefused("Incident is already resolved")
