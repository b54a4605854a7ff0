"""The composition root's wiring: which adapter serves which port (chosen by settings), and one
sub-container per API area that builds that area's use cases from those ports.

The ports live here, once, so overriding one (`container.uow.override(...)`) reaches every area
that uses it; an area names the ports it needs as its own `Dependency` providers
(gatewayz/areas/<area>.py) and its `bundle` is what its controllers receive."""

from __future__ import annotations

import inspect
from typing import Any

from dependency_injector import containers, providers
from prometheus_client import CollectorRegistry

from adapters.cache.breakers import CachedBreakerStates
from adapters.cache.key_directory import CachedKeyDirectory
from adapters.cache.limit_configs import CachedLimitConfigs
from adapters.memory.timing import MemoryProviderTimings
from adapters.postgres.accounts import PostgresKeyDirectory
from adapters.postgres.activity import PostgresActivityQueries
from adapters.postgres.admin_queries import PostgresAdminQueries
from adapters.postgres.cache_usage import PostgresCacheUsageStore
from adapters.postgres.catalog import PostgresCatalogRepository
from adapters.postgres.chat_history import PostgresChatHistoryStore
from adapters.postgres.error_monitoring import PostgresErrorPatternStore, PostgresFixStore
from adapters.postgres.incidents import PostgresIncidentRepository
from adapters.postgres.limits import PostgresLimitConfigRepository
from adapters.postgres.throughput import PostgresThroughputStore
from adapters.postgres.uow import PostgresUnitOfWorkFactory
from adapters.prometheus.inference import PrometheusInferenceMetrics
from adapters.prometheus.settlements import PrometheusSettlementMetrics
from adapters.prometheus.timing import PrometheusProviderTimings
from adapters.system.clock import SystemClock
from adapters.system.ids import RandomIdGenerator
from domain.breaker import BreakerPolicy
from domain.services.post_settlements import PostSettlements
from gatewayz import analytics as product_analytics
from gatewayz import infrastructure as infra
from gatewayz import limits as admission
from gatewayz import monitoring, response_cache
from gatewayz.areas.accounts import AccountsArea
from gatewayz.areas.analytics import AnalyticsArea
from gatewayz.areas.auth import AuthArea
from gatewayz.areas.breakers import BreakersArea
from gatewayz.areas.chat_history import ChatHistoryArea
from gatewayz.areas.coupons import CouponsArea
from gatewayz.areas.credits import CreditsArea
from gatewayz.areas.diagnostics import DiagnosticsArea
from gatewayz.areas.error_monitoring import ErrorMonitoringArea
from gatewayz.areas.health import HealthArea
from gatewayz.areas.incidents import IncidentsArea
from gatewayz.areas.inference import InferenceArea
from gatewayz.areas.limits import LimitsArea
from gatewayz.areas.models import ModelsArea
from gatewayz.areas.monitoring import MonitoringArea
from gatewayz.areas.users import UsersArea
from gatewayz.secrets import key_secret
from gatewayz.settings import Settings


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    # infrastructure
    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(RandomIdGenerator)
    key_secret = providers.Singleton(key_secret, settings)
    registry = providers.Singleton(CollectorRegistry, auto_describe=True)
    engine = providers.Resource(infra.engine, settings)
    redis = providers.Resource(infra.redis, settings)

    # ports
    uow = providers.Singleton(PostgresUnitOfWorkFactory, engine)
    bus = providers.Resource(infra.bus, redis, settings)
    key_directory = providers.Singleton(
        CachedKeyDirectory, providers.Singleton(PostgresKeyDirectory, engine), bus,
        ttl_s=providers.Callable(lambda s: s.key_cache_ttl_s, settings))
    probes = providers.Callable(infra.probes, engine, redis)
    catalog_repository = providers.Singleton(PostgresCatalogRepository, engine)
    catalog_source = providers.Resource(infra.catalog_source, catalog_repository, bus)
    breaker_policy = providers.Singleton(BreakerPolicy)
    breaker_store = providers.Singleton(infra.breakers, redis, settings, breaker_policy, clock)
    # what dispatch and resets use: the shared store behind a quarter-second local copy of states
    # (this process's own outcomes and resets show at once); the read endpoints use the store itself
    breakers = providers.Singleton(CachedBreakerStates, breaker_store)
    breaker_providers = providers.Singleton(infra.catalog_providers, catalog_source)
    inference_metrics = providers.Singleton(PrometheusInferenceMetrics, registry)
    request_log = providers.Resource(infra.request_log, engine)
    post_settlements = providers.Singleton(PostSettlements, uow)
    settlements = providers.Resource(infra.settlements, post_settlements)
    holds = providers.Singleton(infra.holds, redis, settings)
    settlement_metrics = providers.Singleton(PrometheusSettlementMetrics, registry)
    settlement_drainer = providers.Resource(infra.settlement_drainer, redis, settings, engine, post_settlements, uow,
                                            holds, clock, settlement_metrics)
    upstream = providers.Resource(infra.upstream, settings)
    admission_settings = providers.Callable(admission.admission_settings, settings)
    rate_limiter = providers.Singleton(admission.rate_limiter, redis, settings, registry, clock)
    limit_configs = providers.Singleton(
        CachedLimitConfigs, providers.Singleton(PostgresLimitConfigRepository, engine), bus,
        ttl_s=admission_settings.provided.config_cache_ttl_s)
    # #1735: the seed's Prometheus metrics per upstream attempt, over the in-process rolling statistics
    provider_timings = providers.Singleton(PrometheusProviderTimings, registry,
                                           providers.Singleton(MemoryProviderTimings))
    gate = providers.Singleton(admission.concurrency_gate, settings, registry)  # None: CONCURRENCY_LIMIT=0
    hasher = providers.Singleton(infra.password_hasher, settings)
    privy_verifier = providers.Singleton(infra.privy_verifier, settings)
    notifier = providers.Resource(infra.notifier, settings, registry)
    attempts = providers.Singleton(infra.attempts, redis, settings)
    activity_queries = providers.Singleton(PostgresActivityQueries, engine)
    analytics_queue = providers.Resource(product_analytics.analytics_queue, settings, registry)
    chat_history_store = providers.Singleton(PostgresChatHistoryStore, engine)
    assistant_messages = providers.Resource(infra.assistant_messages, chat_history_store)
    throughput_store = providers.Singleton(PostgresThroughputStore, engine)
    admin_queries = providers.Singleton(PostgresAdminQueries, engine)
    result_cache = providers.Singleton(infra.result_cache, redis, settings, clock)
    hub_cache = providers.Singleton(infra.hub_cache, redis, settings, clock)
    model_hub = providers.Singleton(infra.model_hub, settings)
    response_caching = providers.Singleton(response_cache.response_caching, settings, redis, registry, clock)
    cache_usage = providers.Singleton(PostgresCacheUsageStore, engine)

    # areas: each builds its use cases from the ports above
    key_usage = providers.Resource(infra.key_usage, engine, settings)
    auth = providers.Container(AuthArea, settings=settings, uow=uow, clock=clock, key_secret=key_secret,
                               key_directory=key_directory, key_usage=key_usage)
    health = providers.Container(HealthArea, probes=probes, registry=registry)
    users = providers.Container(UsersArea, uow=uow, clock=clock, ids=ids, key_secret=key_secret, bus=bus,
                                admin_queries=admin_queries,
                                protected_email_domains=settings.provided.protected_email_domains)
    request_monitoring = providers.Container(MonitoringArea, admin_queries=admin_queries, result_cache=result_cache,
                                             clock=clock, key_secret=key_secret)
    models = providers.Container(ModelsArea, catalog_repository=catalog_repository, catalog_source=catalog_source,
                                 bus=bus, clock=clock, uow=uow, registry=registry,
                                 catalog_ttl_s=settings.provided.catalog_cache_ttl_s, model_hub=model_hub,
                                 hub_cache=hub_cache)
    circuit_breakers = providers.Container(
        BreakersArea, breaker_store=breaker_store, breakers=breakers, breaker_providers=breaker_providers,
        clock=clock, policy=breaker_policy, metrics=inference_metrics)
    inference = providers.Container(
        InferenceArea, settings=settings, uow=uow, clock=clock, ids=ids, key_secret=key_secret,
        catalog_source=catalog_source, upstream=upstream, breakers=breakers, policy=breaker_policy,
        metrics=inference_metrics, settlement_metrics=settlement_metrics, provider_timings=provider_timings,
        request_log=request_log, settlements=settlements, holds=holds, rate_limiter=rate_limiter,
        limit_configs=limit_configs, admission=admission_settings, chat_history_store=chat_history_store,
        assistant_messages=assistant_messages, response_caching=response_caching)
    limits = providers.Container(LimitsArea, key_directory=key_directory, limit_configs=limit_configs, bus=bus,
                                 clock=clock, key_secret=key_secret, admission=admission_settings)
    diagnostics = providers.Container(DiagnosticsArea, provider_timings=provider_timings, gate=gate)
    coupons = providers.Container(CouponsArea, uow=uow, clock=clock, bus=bus, holds=holds)
    accounts = providers.Container(AccountsArea, settings=settings, uow=uow, clock=clock, ids=ids,
                                   key_secret=key_secret, bus=bus, hasher=hasher, privy_verifier=privy_verifier,
                                   notifier=notifier, attempts=attempts, activity_queries=activity_queries,
                                   rate_limiter=rate_limiter, limit_configs=limit_configs, admission=admission_settings)
    credits = providers.Container(CreditsArea, settings=settings, uow=uow, clock=clock, bus=bus, holds=holds,
                                  key_directory=key_directory, key_secret=key_secret)
    analytics = providers.Container(AnalyticsArea, settings=settings, analytics_queue=analytics_queue,
                                    rate_limiter=rate_limiter, clock=clock, key_secret=key_secret,
                                    cache_usage=cache_usage, catalog_source=catalog_source)
    chat_history = providers.Container(ChatHistoryArea, chat_history_store=chat_history_store,
                                       throughput_store=throughput_store, uow=uow, clock=clock)

    # monitoring (issue 15): its ports, the incidents area, and the one scheduler every area's jobs join
    incident_repository = providers.Singleton(PostgresIncidentRepository, engine)
    held_incidents = providers.Singleton(monitoring.held_incidents, redis, settings)
    log_source = providers.Resource(monitoring.log_source, settings)
    leader_lock = providers.Singleton(monitoring.leader_lock, redis, settings)
    incidents = providers.Container(
        IncidentsArea, settings=settings, repository=incident_repository, held=held_incidents, log_source=log_source,
        clock=clock, probes=probes, catalog_source=catalog_source, upstream=upstream, breaker_store=breaker_store,
        policy=breaker_policy, gate=gate, provider_timings=provider_timings, notifier=notifier)
    error_patterns = providers.Singleton(PostgresErrorPatternStore, engine,
                                         providers.Callable(monitoring.initial_monitor_state, settings))
    generated_fixes = providers.Singleton(PostgresFixStore, engine)
    fix_generator = providers.Resource(monitoring.fix_generator, settings)
    code_host = providers.Resource(monitoring.code_host, settings)
    error_monitoring = providers.Container(
        ErrorMonitoringArea, settings=settings, patterns=error_patterns, fixes=generated_fixes, log_source=log_source,
        generator=fix_generator, code_host=code_host, clock=clock, catalog_source=catalog_source,
        leader_lock=leader_lock)
    monitoring_scheduler = providers.Singleton(monitoring.scheduler, leader_lock, clock, registry, incidents.jobs,
                                               error_monitoring.jobs)


AREAS = ("auth", "health", "users", "models", "circuit_breakers", "inference", "limits", "diagnostics", "coupons",
         "credits", "accounts", "analytics", "chat_history", "incidents", "error_monitoring",
         "request_monitoring")


def build_container(settings: Settings) -> Container:
    return Container(settings=settings)


def find(container: Container, name: str) -> Any:
    """A provider by name: a port of the root, or a use case of whichever area builds it."""
    if name in container.providers:
        return container.providers[name]
    for area in AREAS:
        sub = getattr(container, area)
        if name in sub.providers:
            return sub.providers[name]
    raise AttributeError(f"no provider named {name!r} in the root container or any area")


async def resolve(provider: Any) -> Any:
    """Providers that depend on async resources return awaitables; others return values."""
    value = provider()
    if inspect.isawaitable(value):
        value = await value
    return value
