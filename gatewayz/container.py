"""The composition root's wiring: which adapter serves which port, chosen by settings."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

import redis.asyncio as aioredis
from dependency_injector import containers, providers
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.cache.breakers import CachedBreakerStates
from adapters.cache.catalog import CachedCatalog
from adapters.cache.key_directory import CachedKeyDirectory
from adapters.cache.limit_configs import CachedLimitConfigs
from adapters.cache.settlement_drainer import SettlementDrainer
from adapters.cache.settlements import WriteBehindSettlements
from adapters.cache.write_behind import WriteBehindRequestLog
from adapters.memory.breakers import MemoryBreakerStore
from adapters.memory.bus import MemoryCacheBus
from adapters.memory.holds import MemoryHoldStore
from adapters.memory.timing import MemoryProviderTimings
from adapters.postgres.accounts import PostgresKeyDirectory
from adapters.postgres.catalog import PostgresCatalogRepository
from adapters.postgres.engine import create_engine
from adapters.postgres.health import DatabaseProbe
from adapters.postgres.limits import PostgresLimitConfigRepository
from adapters.postgres.requests import PostgresRequestLogStore
from adapters.postgres.uow import PostgresUnitOfWorkFactory
from adapters.prometheus.inference import PrometheusInferenceMetrics
from adapters.prometheus.settlements import PrometheusSettlementMetrics
from adapters.providers.upstream import ProviderUpstream
from adapters.redis.breakers import RedisBreakerStore
from adapters.redis.bus import RedisCacheBus
from adapters.redis.client import create_redis
from adapters.redis.health import RedisProbe
from adapters.redis.holds import RedisHoldStore
from adapters.redis.settlements import RedisSettlementStream
from adapters.system.clock import SystemClock
from adapters.system.ids import RandomIdGenerator
from domain.breaker import BreakerPolicy
from domain.credits import GrantPolicy
from domain.services.adjust_credits import AdjustCredits
from domain.services.admit_request import AdmitRequest
from domain.services.authenticate import Authenticate
from domain.services.authorize_admin import AuthorizeAdmin
from domain.services.balance_changed import BalanceChanged
from domain.services.breaker_queries import ListBreakers, ShowBreaker
from domain.services.bulk_add_credits import BulkAddCredits
from domain.services.chat_completion import ChatCompletion
from domain.services.check_readiness import CheckReadiness
from domain.services.coupon_queries import (
    GetCoupon,
    GetCouponAnalytics,
    GetCouponStats,
    GetRedemptionHistory,
    ListAvailableCoupons,
    ListCoupons,
)
from domain.services.create_coupon import CreateCoupon
from domain.services.create_user import CreateUser
from domain.services.credit_queries import GetBalance, ListOwnTransactions, SearchTransactions, SummarizeCredits
from domain.services.deactivate_coupon import DeactivateCoupon
from domain.services.dispatch import Dispatch
from domain.services.drain_settlements import DrainSettlements
from domain.services.grant_credits import AddCredits, GrantCredits
from domain.services.hold_credits import HoldCredits
from domain.services.idempotent_write import IdempotentWrite
from domain.services.issue_api_key import IssueApiKey
from domain.services.key_limits import ClearRateLimitCache, SetKeyLimits
from domain.services.load_catalog import LoadCatalog
from domain.services.model_queries import GetModel, ListModels
from domain.services.post_settlements import PostSettlements
from domain.services.provider_timing import SummarizeProviderTimings
from domain.services.redeem_coupon import RedeemCoupon
from domain.services.refund_credits import RefundCredits
from domain.services.reset_breakers import ResetAllBreakers, ResetBreaker
from domain.services.revoke_api_key import RevokeApiKey
from domain.services.settle_request import SettleRequest
from domain.services.update_coupon import UpdateCoupon
from domain.services.user_queries import CountUsers, ListUsers, ShowUser
from domain.services.verify_ledger import VerifyLedger
from gatewayz import limits as admission
from gatewayz.secrets import key_secret
from gatewayz.settings import Settings
from ports.breakers import BreakerStore
from ports.bus import CacheBus
from ports.catalog import CatalogRepository, CatalogSource
from ports.clock import Clock
from ports.holds import HoldStore
from ports.telemetry import SettlementMetrics


async def _engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _redis(settings: Settings) -> AsyncIterator[aioredis.Redis | None]:
    if not settings.redis_url:
        yield None
        return
    client = create_redis(settings.redis_url)
    try:
        yield client
    finally:
        await client.aclose()


async def _bus(client: aioredis.Redis | None, settings: Settings) -> AsyncIterator[CacheBus]:
    """Redis pub/sub when Redis is configured (every process hears), else in-process."""
    if client is None:
        yield MemoryCacheBus()
        return
    bus = RedisCacheBus(client, prefix=settings.redis_prefix + "bus:")
    await bus.start()
    try:
        yield bus
    finally:
        await bus.stop()


async def _catalog_source(repository: CatalogRepository, bus: CacheBus) -> AsyncIterator[CachedCatalog]:
    """Loaded before the app serves; afterwards refreshed by every "catalog" broadcast."""
    source = CachedCatalog(repository, bus)
    await source.start()
    try:
        yield source
    finally:
        await source.stop()


def _breakers(client: aioredis.Redis | None, settings: Settings, policy: BreakerPolicy,
              clock: Clock) -> BreakerStore:
    """Redis when configured (every process shares each breaker), else in-process."""
    if client is None:
        return MemoryBreakerStore(clock, policy)
    return RedisBreakerStore(client, settings.redis_prefix, policy, clock)


def _catalog_providers(source: CatalogSource) -> Callable[[], list[str]]:
    """Breaker listings read the live catalog's provider slugs at call time."""
    return lambda: list(source.current().providers)


async def _request_log(engine: AsyncEngine) -> AsyncIterator[WriteBehindRequestLog]:
    """Request rows are written off the request path and flushed on shutdown."""
    log = WriteBehindRequestLog(PostgresRequestLogStore(engine))
    log.start()
    try:
        yield log
    finally:
        await log.stop()


def _holds(client: aioredis.Redis | None, settings: Settings) -> HoldStore:
    """Redis when configured (holds must be atomic across processes), else in-process."""
    if client is None:
        return MemoryHoldStore()
    return RedisHoldStore(client, settings.redis_prefix)


async def _upstream(settings: Settings) -> AsyncIterator[ProviderUpstream]:
    upstream = ProviderUpstream(settings.env, connect_timeout_s=settings.upstream_connect_timeout_s,
                                read_timeout_s=settings.upstream_read_timeout_s,
                                first_byte_timeout_s=settings.upstream_first_byte_timeout_s)
    try:
        yield upstream
    finally:
        await upstream.close()


async def _settlements(post: PostSettlements) -> AsyncIterator[WriteBehindSettlements]:
    """Ledger rows of settled requests are written in batches and flushed on shutdown."""
    journal = WriteBehindSettlements(post)
    journal.start()
    try:
        yield journal
    finally:
        await journal.stop()


async def _settlement_drainer(client: aioredis.Redis | None, settings: Settings, engine: AsyncEngine,
                              post: PostSettlements, uow: PostgresUnitOfWorkFactory, holds: HoldStore,
                              clock: Clock, metrics: SettlementMetrics) -> AsyncIterator[SettlementDrainer | None]:
    """With Redis, every process drains the durable settlement journal into the database."""
    if client is None:
        yield None
        return
    stream = RedisSettlementStream(client, settings.redis_prefix, claim_idle_s=settings.settlement_claim_idle_s)
    drain = DrainSettlements(stream, post, PostgresRequestLogStore(engine), uow, clock, metrics)
    drainer = SettlementDrainer(drain, stream, holds, clock, sweep_every_s=settings.settlement_sweep_s)
    drainer.start()
    try:
        yield drainer
    finally:
        await drainer.stop()


def _probes(engine: AsyncEngine, redis: aioredis.Redis | None) -> list[Any]:
    probes: list[Any] = [DatabaseProbe(engine)]
    if redis is not None:
        probes.append(RedisProbe(redis))
    return probes


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    # infrastructure
    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(RandomIdGenerator)
    key_secret = providers.Singleton(key_secret, settings)
    registry = providers.Singleton(CollectorRegistry, auto_describe=True)
    engine = providers.Resource(_engine, settings)
    redis = providers.Resource(_redis, settings)

    # ports
    uow = providers.Singleton(PostgresUnitOfWorkFactory, engine)
    bus = providers.Resource(_bus, redis, settings)
    key_directory = providers.Singleton(
        CachedKeyDirectory, providers.Singleton(PostgresKeyDirectory, engine), bus,
        ttl_s=providers.Callable(lambda s: s.key_cache_ttl_s, settings),
    )
    probes = providers.Callable(_probes, engine, redis)
    catalog_repository = providers.Singleton(PostgresCatalogRepository, engine)
    catalog_source = providers.Resource(_catalog_source, catalog_repository, bus)
    breaker_policy = providers.Singleton(BreakerPolicy)
    breaker_store = providers.Singleton(_breakers, redis, settings, breaker_policy, clock)
    # what dispatch and resets use: the shared store behind a quarter-second local copy of states
    # (this process's own outcomes and resets show at once); the read endpoints use the store itself
    breakers = providers.Singleton(CachedBreakerStates, breaker_store)
    breaker_providers = providers.Singleton(_catalog_providers, catalog_source)
    inference_metrics = providers.Singleton(PrometheusInferenceMetrics, registry)
    request_log = providers.Resource(_request_log, engine)
    post_settlements = providers.Singleton(PostSettlements, uow)
    settlements = providers.Resource(_settlements, post_settlements)
    holds = providers.Singleton(_holds, redis, settings)
    settlement_metrics = providers.Singleton(PrometheusSettlementMetrics, registry)
    settlement_drainer = providers.Resource(_settlement_drainer, redis, settings, engine, post_settlements, uow,
                                            holds, clock, settlement_metrics)
    upstream = providers.Resource(_upstream, settings)

    # services
    authenticate = providers.Singleton(Authenticate, key_directory, clock, key_secret)
    authorize_admin = providers.Singleton(AuthorizeAdmin, uow, clock)
    check_readiness = providers.Singleton(CheckReadiness, probes)
    issue_api_key = providers.Singleton(IssueApiKey, uow, clock, ids, key_secret)
    create_user = providers.Singleton(CreateUser, uow, clock, issue_api_key)
    revoke_api_key = providers.Singleton(RevokeApiKey, uow, clock, bus)
    count_users = providers.Singleton(CountUsers, uow)
    list_users = providers.Singleton(ListUsers, uow)
    show_user = providers.Singleton(ShowUser, uow)
    list_breakers = providers.Singleton(ListBreakers, breaker_store, breaker_providers, clock, breaker_policy)
    show_breaker = providers.Singleton(ShowBreaker, breaker_store, clock, breaker_policy)
    reset_breaker = providers.Singleton(ResetBreaker, breakers, breaker_providers, clock, breaker_policy,
                                        inference_metrics)
    reset_all_breakers = providers.Singleton(ResetAllBreakers, breakers, breaker_providers, clock, breaker_policy,
                                             inference_metrics)
    load_catalog = providers.Singleton(LoadCatalog, catalog_repository, bus, clock)
    list_models = providers.Singleton(ListModels, catalog_source)
    get_model = providers.Singleton(GetModel, catalog_source)
    admission_settings = providers.Callable(admission.admission_settings, settings)
    rate_limiter = providers.Singleton(admission.rate_limiter, redis, settings, registry, clock)
    limit_configs = providers.Singleton(
        CachedLimitConfigs, providers.Singleton(PostgresLimitConfigRepository, engine), bus,
        ttl_s=admission_settings.provided.config_cache_ttl_s,
    )
    provider_timings = providers.Singleton(MemoryProviderTimings)
    admit_request = providers.Singleton(
        AdmitRequest, rate_limiter, limit_configs, clock, defaults=admission_settings.provided.limits,
        anonymous=admission_settings.provided.anonymous_limits,
        ip_salt=providers.Callable(admission.ip_salt, settings, key_secret),
        default_output_tokens=admission_settings.provided.default_output_tokens,
    )
    dispatch = providers.Singleton(Dispatch, upstream, breakers, inference_metrics, clock, breaker_policy,
                                   provider_timings)
    hold_credits = providers.Singleton(
        HoldCredits, uow, holds, settlements, clock, markup=providers.Callable(lambda s: s.pricing_markup, settings),
        ttl_s=providers.Callable(lambda s: s.hold_ttl_s, settings))
    settle_request = providers.Singleton(
        SettleRequest, settlements, holds, clock, markup=providers.Callable(lambda s: s.pricing_markup, settings),
        metrics=settlement_metrics)
    chat_completion = providers.Singleton(
        ChatCompletion, catalog_source, upstream, dispatch, request_log, inference_metrics, clock, ids,
        hold_credits, settle_request, admit_request,
        providers.Callable(lambda s: frozenset(s.anonymous_allowed_models), settings),
    )

    # admission control: rate limits, concurrency leases, per-key overrides, provider timings
    set_key_limits = providers.Singleton(SetKeyLimits, key_directory, limit_configs, bus, clock, key_secret,
                                         defaults=admission_settings.provided.limits)
    clear_rate_limit_cache = providers.Singleton(ClearRateLimitCache, bus)
    summarize_provider_timings = providers.Singleton(SummarizeProviderTimings, provider_timings)

    # coupons: redemption credits the ledger in one transaction, then drops cached balances
    redeem_coupon = providers.Singleton(RedeemCoupon, uow, clock, bus, holds)
    list_available_coupons = providers.Singleton(ListAvailableCoupons, uow, clock)
    get_redemption_history = providers.Singleton(GetRedemptionHistory, uow)
    create_coupon = providers.Singleton(CreateCoupon, uow, clock)
    list_coupons = providers.Singleton(ListCoupons, uow)
    get_coupon = providers.Singleton(GetCoupon, uow)
    get_coupon_stats = providers.Singleton(GetCouponStats, uow)
    get_coupon_analytics = providers.Singleton(GetCouponAnalytics, uow, clock)
    update_coupon = providers.Singleton(UpdateCoupon, uow, clock)
    deactivate_coupon = providers.Singleton(DeactivateCoupon, uow, clock)

    # credits: admin grants under the cap and daily limit, adjustments, refunds (Idempotency-Key aware),
    # ledger reads, the caller's balance, and `gatewayz ledger verify`
    grant_policy = providers.Singleton(
        GrantPolicy, max_grant=providers.Callable(lambda s: s.admin_max_credit_grant, settings),
        daily_limit=providers.Callable(lambda s: s.admin_daily_grant_limit, settings))
    idempotent_write = providers.Singleton(IdempotentWrite, uow, clock)
    balance_changed = providers.Singleton(BalanceChanged, bus, holds)
    grant_credits = providers.Singleton(GrantCredits, idempotent_write, clock, key_directory, key_secret,
                                        grant_policy, balance_changed)
    add_credits = providers.Singleton(AddCredits, idempotent_write, clock, grant_policy, balance_changed)
    adjust_credits = providers.Singleton(AdjustCredits, idempotent_write, clock, grant_policy, balance_changed)
    bulk_add_credits = providers.Singleton(BulkAddCredits, idempotent_write, clock, grant_policy, balance_changed)
    refund_credits = providers.Singleton(RefundCredits, idempotent_write, clock, balance_changed)
    search_transactions = providers.Singleton(SearchTransactions, uow)
    summarize_credits = providers.Singleton(SummarizeCredits, uow)
    get_balance = providers.Singleton(GetBalance, uow, clock, holds)
    list_own_transactions = providers.Singleton(ListOwnTransactions, uow)
    verify_ledger = providers.Singleton(VerifyLedger, uow, clock, holds)


def build_container(settings: Settings) -> Container:
    return Container(settings=settings)


async def resolve(provider: Any) -> Any:
    """Providers that depend on async resources return awaitables; others return values."""
    value = provider()
    if inspect.isawaitable(value):
        value = await value
    return value
