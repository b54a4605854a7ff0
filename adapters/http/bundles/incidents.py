"""Downtime incidents: the admin routes over them."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.di import NamedDependency

from domain.services.capture_incident_logs import CaptureIncidentLogs
from domain.services.incident_queries import (
    AnalyzeIncident,
    FilterIncidentLogs,
    IncidentStatisticsQuery,
    ListIncidents,
    OngoingIncidents,
    ShowIncident,
)
from domain.services.resolve_incident import ResolveIncident


@dataclass(frozen=True, slots=True)
class IncidentsServices:
    list_incidents: ListIncidents
    ongoing_incidents: OngoingIncidents
    incident_statistics: IncidentStatisticsQuery
    show_incident: ShowIncident
    incident_logs: FilterIncidentLogs
    analyze_incident: AnalyzeIncident
    capture_logs: CaptureIncidentLogs
    resolve_incident: ResolveIncident


# what a handler writes to receive it (`incidents_services: IncidentsBundle`)
IncidentsBundle = NamedDependency[IncidentsServices]
