"""Analytics: the event routes' use case."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.di import NamedDependency

from domain.services.log_events import LogEvents


@dataclass(frozen=True, slots=True)
class AnalyticsServices:
    log_events: LogEvents


# what a handler writes to receive it (`analytics_services: AnalyticsBundle`)
AnalyticsBundle = NamedDependency[AnalyticsServices]
