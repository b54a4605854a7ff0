"""Request monitoring and the platform overview (#1602, #1607, #1616-#1623, #1634, #1635)."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.http.area import Area
from adapters.http.bundles.monitoring import MonitoringServices
from adapters.http.controllers.admin_monitoring import AdminMonitoringController, TrackingController
from domain.services.request_monitoring import RequestMonitoring
from domain.services.trial_analytics import TrialAnalytics


class MonitoringArea(containers.DeclarativeContainer):
    admin_queries = providers.Dependency()
    result_cache = providers.Dependency()
    clock = providers.Dependency()
    key_secret = providers.Dependency()

    monitoring = providers.Singleton(RequestMonitoring, admin_queries, result_cache, clock, key_secret)
    trial_analytics = providers.Singleton(TrialAnalytics, admin_queries, result_cache, clock)
    bundle = providers.Singleton(MonitoringServices, monitoring, trial_analytics)


HTTP = Area("monitoring", [AdminMonitoringController, TrackingController], container="request_monitoring")
