"""Downtime incidents, admin only: list (#1737), ongoing (#1738), statistics (#1739), one (#1740),
its logs (#1741) and their analysis (#1742), capture logs (#1743), resolve (#1744)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from adapters.http.bundles.incidents import IncidentsBundle
from adapters.http.schemas.incidents import (
    CaptureOut,
    CaptureResultOut,
    Days,
    IncidentDetailOut,
    IncidentLimit,
    IncidentListOut,
    IncidentOut,
    LevelFilter,
    OngoingOut,
    ResolvedOut,
    ResolveIn,
    SeverityFilter,
    StatisticsOut,
    StatisticsPageOut,
    StatusFilter,
    Text,
)
from domain.api_keys import Principal
from domain.incidents import IncidentFilter, IncidentStatus, Severity, resolver

IncidentId = Annotated[str, PathParameter(description="The incident's UUID (anything else is a 404)")]
NotesQuery = Annotated[str | None, QueryParameter(max_length=10_000, pattern=r"^[^\x00]*$", required=False)]


class AdminDowntimeController(Controller):
    path = "/admin/downtime"
    tags = ["admin", "monitoring"]
    opt = {"auth": "admin"}

    @get("/incidents", operation_id="admin_downtime_incidents")
    async def list_incidents(self, incidents_services: IncidentsBundle, limit: IncidentLimit = 50,
                             status: StatusFilter = None, severity: SeverityFilter = None,
                             environment: Text = None) -> IncidentListOut:
        filters = IncidentFilter(status=IncidentStatus(status) if status else None,
                                 severity=Severity(severity) if severity else None, environment=environment)
        page = await incidents_services.list_incidents(filters, limit)
        return IncidentListOut(status="success", total_incidents=page.counts.total, ongoing=page.counts.ongoing,
                               resolved=page.counts.resolved, returned=len(page.incidents),
                               incidents=[IncidentOut.of(i) for i in page.incidents])

    @get("/incidents/ongoing", operation_id="admin_downtime_incidents_ongoing")
    async def ongoing(self, incidents_services: IncidentsBundle) -> OngoingOut:
        incidents = await incidents_services.ongoing_incidents()
        return OngoingOut(status="success", count=len(incidents), incidents=[IncidentOut.of(i) for i in incidents])

    @get("/statistics", operation_id="admin_downtime_statistics")
    async def statistics(self, incidents_services: IncidentsBundle, days: Days = 30) -> StatisticsPageOut:
        stats = await incidents_services.incident_statistics(days)
        return StatisticsPageOut(status="success", period_days=days, statistics=StatisticsOut(
            total_incidents=stats.total_incidents, total_downtime_seconds=stats.total_downtime_seconds,
            average_duration_seconds=stats.average_duration_seconds, by_severity=stats.by_severity,
            by_status=stats.by_status))

    @get("/incidents/{incident_id:str}", operation_id="admin_downtime_incident")
    async def show(self, incidents_services: IncidentsBundle, incident_id: IncidentId) -> IncidentDetailOut:
        return IncidentDetailOut(status="success",
                                 incident=IncidentOut.of(await incidents_services.show_incident(incident_id)))

    @get("/incidents/{incident_id:str}/logs", operation_id="admin_downtime_incident_logs")
    async def logs(self, incidents_services: IncidentsBundle, incident_id: IncidentId, level: LevelFilter = None,
                   logger_name: Text = None, search: Text = None) -> dict[str, Any]:
        found = await incidents_services.incident_logs(incident_id, level=level, logger=logger_name, search=search)
        if not found.total_captured:
            return {"status": "success", "message": "No logs captured for this incident", "total_logs": 0, "logs": []}
        return {"status": "success", "total_logs": len(found.logs), "total_captured": found.total_captured,
                "filters": {"level": level, "logger": logger_name, "search": search}, "logs": found.logs}

    @get("/incidents/{incident_id:str}/analysis", operation_id="admin_downtime_incident_analysis")
    async def analysis(self, incidents_services: IncidentsBundle, incident_id: IncidentId) -> dict[str, Any]:
        analysis = await incidents_services.analyze_incident(incident_id)
        if analysis is None:
            return {"status": "success", "message": "No logs to analyze", "analysis": None}
        return {"status": "success", "incident_id": incident_id, "analysis": {
            "total_logs": analysis.total_logs, "error_count": analysis.error_count,
            "warning_count": analysis.warning_count, "error_types": analysis.error_types,
            "top_errors": [list(pair) for pair in analysis.top_errors]}}

    @post("/incidents/{incident_id:str}/capture-logs", operation_id="admin_downtime_incident_capture_logs",
          status_code=200)
    async def capture(self, incidents_services: IncidentsBundle, incident_id: IncidentId) -> CaptureOut:
        result = await incidents_services.capture_logs(incident_id)
        return CaptureOut(status="success", message="Log capture triggered", result=CaptureResultOut(
            success=result.success, log_count=result.log_count, truncated=result.truncated, storage=result.storage,
            error=result.error))

    @post("/incidents/{incident_id:str}/resolve", operation_id="admin_downtime_incident_resolve", status_code=200)
    async def resolve(self, request: Request[Any, Any, Any], incidents_services: IncidentsBundle,
                      incident_id: IncidentId, notes: NotesQuery = None,
                      data: JSONBody[ResolveIn | None] = None) -> ResolvedOut:
        """`notes` as a query parameter (the seed's) or in a JSON body; neither keeps the existing notes."""
        principal: Principal = request.state.principal
        if notes is None and data is not None:
            notes = data.notes
        incident = await incidents_services.resolve_incident(
            incident_id, resolved_by=resolver(principal.user.email, principal.user.id), notes=notes)
        return ResolvedOut(status="success", message="Incident resolved", incident=IncidentOut.of(incident))
