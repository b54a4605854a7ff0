"""Request monitoring and the platform overview (#1602, #1616-#1622, #1634, #1635)."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.http.area import Area
from adapters.http.bundles.monitoring import MonitoringServices
from adapters.http.controllers.admin_monitoring import AdminMonitoringController, TrackingController
from domain.services.request_monitoring import RequestMonitoring


class MonitoringArea(containers.DeclarativeContainer):
    admin_queries = providers.Dependency()
    result_cache = providers.Dependency()
    clock = providers.Dependency()
    key_secret = providers.Dependency()

    monitoring = providers.Singleton(RequestMonitoring, admin_queries, result_cache, clock, key_secret)
    bundle = providers.Singleton(MonitoringServices, monitoring)


HTTP = Area("monitoring", [AdminMonitoringController, TrackingController])
