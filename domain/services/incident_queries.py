"""Read-side use cases of downtime incidents (#1737 list, #1738 ongoing, #1739 statistics,
#1740 one, #1741 its logs, #1742 their analysis)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import msgspec

from domain import not_found
from domain.incidents import (
    Incident,
    IncidentCounts,
    IncidentFilter,
    IncidentStatistics,
    LogAnalysis,
    analyze_logs,
    filter_logs,
    is_incident_id,
    statistics,
)
from ports.clock import Clock
from ports.incidents import IncidentRepository


class IncidentPage(msgspec.Struct, frozen=True, kw_only=True):
    incidents: list[Incident]
    counts: IncidentCounts


class ListIncidents:
    def __init__(self, repo: IncidentRepository) -> None:
        self._repo = repo

    async def __call__(self, filters: IncidentFilter, limit: int) -> IncidentPage:
        return IncidentPage(incidents=await self._repo.search(filters, limit), counts=await self._repo.counts(filters))


class OngoingIncidents:
    def __init__(self, repo: IncidentRepository) -> None:
        self._repo = repo

    async def __call__(self) -> list[Incident]:
        return await self._repo.ongoing()


class IncidentStatisticsQuery:
    def __init__(self, repo: IncidentRepository, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock

    async def __call__(self, days: int) -> IncidentStatistics:
        now = self._clock.now()
        return statistics(await self._repo.statistics(now - timedelta(days=days), now))


class ShowIncident:
    """A string that is not a UUID names no incident: 404, like a missing one."""

    def __init__(self, repo: IncidentRepository) -> None:
        self._repo = repo

    async def __call__(self, incident_id: str) -> Incident:
        incident = await self._repo.get(incident_id) if is_incident_id(incident_id) else None
        if incident is None:
            raise not_found.incident()
        return incident


class IncidentLogs(msgspec.Struct, frozen=True, kw_only=True):
    logs: list[Mapping[str, Any]]
    total_captured: int


class FilterIncidentLogs:
    def __init__(self, show: ShowIncident) -> None:
        self._show = show

    async def __call__(self, incident_id: str, *, level: str | None, logger: str | None,
                       search: str | None) -> IncidentLogs:
        stored = (await self._show(incident_id)).logs_captured or []
        return IncidentLogs(logs=filter_logs(stored, level=level, logger=logger, search=search),
                            total_captured=len(stored))


class AnalyzeIncident:
    def __init__(self, show: ShowIncident) -> None:
        self._show = show

    async def __call__(self, incident_id: str) -> LogAnalysis | None:
        """None when nothing was captured."""
        stored = (await self._show(incident_id)).logs_captured
        return analyze_logs(stored) if stored else None
