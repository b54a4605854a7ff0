"""Error monitoring: errors read from the log store, grouped and classified, stored patterns, proposed
fixes and their pull requests, and the scan and pull-request jobs of the monitoring loop."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.http.area import Area
from adapters.http.bundles.error_monitor import ErrorMonitorServices
from adapters.http.controllers.error_monitor import ErrorMonitorController
from domain.services.error_monitor import FixQueries, ListPatterns, MonitorControl, ReadErrors, ScanErrors
from domain.services.generate_fix import RefreshPullRequests, ScheduledScan
from gatewayz import monitoring


class ErrorMonitoringArea(containers.DeclarativeContainer):
    settings = providers.Dependency()
    patterns = providers.Dependency()
    fixes = providers.Dependency()
    log_source = providers.Dependency()
    generator = providers.Dependency()
    code_host = providers.Dependency()
    clock = providers.Dependency()
    catalog_source = providers.Dependency()
    leader_lock = providers.Dependency()

    providers_names = providers.Callable(monitoring.catalog_names, catalog_source)
    read_errors = providers.Singleton(ReadErrors, log_source, providers_names, clock,
                                      query=settings.provided.monitoring.loki_error_query)
    scan_errors = providers.Singleton(ScanErrors, log_source, patterns, providers_names, clock,
                                      query=settings.provided.monitoring.loki_error_query)
    monitor = providers.Singleton(MonitorControl, patterns,
                                  providers.Callable(monitoring.leader_running, leader_lock, settings), clock)
    list_patterns = providers.Singleton(ListPatterns, patterns)
    fix_queries = providers.Singleton(FixQueries, fixes)
    generate_fix = providers.Resource(monitoring.generate_fix, patterns, fixes, generator, code_host, clock, settings)
    scheduled_scan = providers.Singleton(ScheduledScan, scan_errors, patterns, generate_fix)
    refresh_pull_requests = providers.Singleton(RefreshPullRequests, fixes, code_host)
    jobs = providers.Callable(monitoring.error_jobs, scheduled_scan, refresh_pull_requests, monitor)

    bundle = providers.Singleton(ErrorMonitorServices, read_errors, scan_errors, monitor, list_patterns, generate_fix,
                                 fix_queries)


HTTP = Area("error_monitor", [ErrorMonitorController], container="error_monitoring")
