"""CaptureIncidentLogs (#1743 and the automatic captures): the logs around an incident, from the log
store into the incident's row, replacing the previous capture."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from domain.incidents import (
    CAPTURE_LEAD_S,
    CAPTURE_TAIL_S,
    MAX_CAPTURED_LOGS,
    Incident,
    IncidentRefused,
    IncidentStatus,
)
from domain.logs import LogQueryFailed, LogsNotEnabled
from domain.services.incident_queries import ShowIncident
from ports.clock import Clock
from ports.incidents import IncidentRepository
from ports.logs import LogSource

DEFAULT_INCIDENT_QUERY = '{app="gatewayz-api"}'


class CaptureResult(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    success: bool
    log_count: int = 0
    truncated: bool | None = None
    storage: str | None = None
    error: str | None = None


class CaptureIncidentLogs:
    def __init__(self, repo: IncidentRepository, logs: LogSource, clock: Clock, *,
                 query: str = DEFAULT_INCIDENT_QUERY, max_entries: int = MAX_CAPTURED_LOGS) -> None:
        self._repo = repo
        self._logs = logs
        self._clock = clock
        self._query = query
        self._max = max_entries
        self._show = ShowIncident(repo)

    async def __call__(self, incident_id: str) -> CaptureResult:
        """The route's capture: ongoing incidents only, over `[started_at − 5 min, now]`."""
        incident = await self._show(incident_id)
        if incident.status is not IncidentStatus.ONGOING:
            raise IncidentRefused("Can only capture logs for ongoing incidents")
        return await self.capture(incident)

    async def capture(self, incident: Incident) -> CaptureResult:
        """Ongoing: up to now; resolved: up to 5 minutes past its end. A failed or empty read leaves
        the stored logs untouched."""
        now = self._clock.now()
        end = now
        if incident.ended_at is not None:
            end = min(now, incident.ended_at + timedelta(seconds=CAPTURE_TAIL_S))
        start = incident.started_at - timedelta(seconds=CAPTURE_LEAD_S)
        try:
            page = await self._logs.query_range(self._query, start, end, self._max, "forward")
        except (LogsNotEnabled, LogQueryFailed) as exc:
            return CaptureResult(success=False, error=exc.message)
        if not page.entries:
            return CaptureResult(success=False, error="No logs found in Loki")
        await self._repo.store_logs(incident.id, [e.as_dict() for e in page.entries])
        return CaptureResult(success=True, log_count=len(page.entries), truncated=page.truncated, storage="database")

    async def run_due(self) -> int:
        """The scheduler's job: every capture that fell due (at opening, 5 minutes after resolution)."""
        done = 0
        for incident in await self._repo.due_captures(self._clock.now()):
            due: datetime | None = incident.capture_due_at
            await self.capture(incident)
            if due is not None:
                await self._repo.capture_done(incident.id, due)
            done += 1
        return done
