"""Analytics: the event routes' use case and the response cache's savings figures."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.di import NamedDependency

from domain.services.cache_analytics import CacheAnalytics
from domain.services.log_events import LogEvents


@dataclass(frozen=True, slots=True)
class AnalyticsServices:
    log_events: LogEvents
    cache_analytics: CacheAnalytics


# what a handler writes to receive it (`analytics_services: AnalyticsBundle`)
AnalyticsBundle = NamedDependency[AnalyticsServices]
