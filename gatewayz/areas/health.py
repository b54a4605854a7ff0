"""Liveness, readiness and metrics."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.http.area import Area
from adapters.http.bundles.health import HealthServices
from adapters.http.controllers.health import HealthController
from adapters.http.controllers.metrics import MetricsController
from domain.services.check_readiness import CheckReadiness


class HealthArea(containers.DeclarativeContainer):
    probes = providers.Dependency()
    registry = providers.Dependency()

    check_readiness = providers.Singleton(CheckReadiness, probes)
    bundle = providers.Singleton(HealthServices, check_readiness, registry)


HTTP = Area("health", [HealthController, MetricsController])
