"""Analytics: product events queued for Statsig and PostHog (#1631-#1633); the response cache's savings
(#1661, #1662)."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.http.area import Area
from adapters.http.bundles.analytics import AnalyticsServices
from adapters.http.controllers.analytics import AnalyticsController, CacheAnalyticsController
from domain.services.cache_analytics import CacheAnalytics
from domain.services.log_events import LogEvents
from gatewayz import limits as admission_rules
from gatewayz import response_cache
from gatewayz.analytics import analytics_settings


class AnalyticsArea(containers.DeclarativeContainer):
    settings = providers.Dependency()
    analytics_queue = providers.Dependency()
    rate_limiter = providers.Dependency()
    clock = providers.Dependency()
    key_secret = providers.Dependency()
    cache_usage = providers.Dependency()
    catalog_source = providers.Dependency()

    config = providers.Callable(analytics_settings, settings)
    log_events = providers.Singleton(
        LogEvents, analytics_queue, rate_limiter, clock,
        anonymous_per_minute=config.provided.anonymous_per_minute,
        ip_salt=providers.Callable(admission_rules.ip_salt, settings, key_secret))
    cache_analytics = providers.Singleton(
        CacheAnalytics, cache_usage, catalog_source, clock,
        system_enabled=providers.Callable(response_cache.system_enabled, settings))
    bundle = providers.Singleton(AnalyticsServices, log_events, cache_analytics)


HTTP = Area("analytics", [AnalyticsController, CacheAnalyticsController])
