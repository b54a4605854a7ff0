"""Request monitoring and the platform overview (issue 14)."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.di import NamedDependency

from domain.services.request_monitoring import RequestMonitoring
from domain.services.trial_analytics import TrialAnalytics


@dataclass(frozen=True, slots=True)
class MonitoringServices:
    monitoring: RequestMonitoring
    trial_analytics: TrialAnalytics


# what a handler writes to receive it (`monitoring_services: MonitoringBundle`)
MonitoringBundle = NamedDependency[MonitoringServices]
