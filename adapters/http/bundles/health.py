"""Liveness, readiness and the Prometheus exposition."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.di import NamedDependency
from prometheus_client import CollectorRegistry

from domain.services.check_readiness import CheckReadiness


@dataclass(frozen=True, slots=True)
class HealthServices:
    check_readiness: CheckReadiness
    registry: CollectorRegistry


# what a handler writes to receive it (`health_services: HealthBundle`)
HealthBundle = NamedDependency[HealthServices]
