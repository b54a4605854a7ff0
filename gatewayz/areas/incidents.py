"""Downtime incidents: detection from the health checks (a monitoring job), log capture, admin routes."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.http.area import Area
from adapters.http.bundles.incidents import IncidentsServices
from adapters.http.controllers.admin_downtime import AdminDowntimeController
from domain.services.capture_incident_logs import CaptureIncidentLogs
from domain.services.check_readiness import CheckReadiness
from domain.services.detect_incidents import DetectIncidents
from domain.services.health_checks import RunHealthChecks, UpstreamHealth
from domain.services.incident_queries import (
    AnalyzeIncident,
    FilterIncidentLogs,
    IncidentStatisticsQuery,
    ListIncidents,
    OngoingIncidents,
    ShowIncident,
)
from domain.services.resolve_incident import ResolveIncident
from gatewayz import monitoring


class IncidentsArea(containers.DeclarativeContainer):
    settings = providers.Dependency()
    repository = providers.Dependency()
    held = providers.Dependency()
    log_source = providers.Dependency()
    clock = providers.Dependency()
    probes = providers.Dependency()
    catalog_source = providers.Dependency()
    upstream = providers.Dependency()
    breaker_store = providers.Dependency()
    policy = providers.Dependency()
    gate = providers.Dependency()
    provider_timings = providers.Dependency()
    notifier = providers.Dependency()

    list_incidents = providers.Singleton(ListIncidents, repository)
    ongoing_incidents = providers.Singleton(OngoingIncidents, repository)
    incident_statistics = providers.Singleton(IncidentStatisticsQuery, repository, clock)
    show_incident = providers.Singleton(ShowIncident, repository)
    incident_logs = providers.Singleton(FilterIncidentLogs, show_incident)
    analyze_incident = providers.Singleton(AnalyzeIncident, show_incident)
    capture_logs = providers.Singleton(CaptureIncidentLogs, repository, log_source, clock,
                                       query=settings.provided.monitoring.loki_incident_query)
    resolve_incident = providers.Singleton(ResolveIncident, repository, clock)

    health_checks = providers.Singleton(
        RunHealthChecks, providers.Singleton(CheckReadiness, probes),
        providers.Singleton(UpstreamHealth, catalog_source, upstream, breaker_store, clock, policy),
        rate_limit_fail_open=providers.Callable(lambda s: not s.admission.fail_closed, settings))
    detect_incidents = providers.Singleton(
        DetectIncidents, health_checks, repository, held, clock,
        environment=settings.provided.monitoring.environment, server_info=providers.Callable(monitoring.server_info),
        snapshot=providers.Callable(monitoring.metrics_snapshot, gate, breaker_store, provider_timings),
        open_after=settings.provided.monitoring.incident_open_after,
        resolve_after=settings.provided.monitoring.incident_resolve_after,
        notify=providers.Callable(monitoring.incident_alerts, notifier, settings))
    jobs = providers.Callable(monitoring.incident_jobs, detect_incidents, capture_logs, settings)

    bundle = providers.Singleton(IncidentsServices, list_incidents, ongoing_incidents, incident_statistics,
                                 show_incident, incident_logs, analyze_incident, capture_logs, resolve_incident)


HTTP = Area("incidents", [AdminDowntimeController])
