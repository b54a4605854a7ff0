"""Infrastructure the root container wires: pools and clients as async resources (opened by the
lifespan, closed on shutdown), and which adapter serves a port, chosen by settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.cache.catalog import CachedCatalog
from adapters.cache.chat_history import WriteBehindAssistantMessages
from adapters.cache.key_usage import BufferedKeyUsage
from adapters.cache.settlement_drainer import SettlementDrainer
from adapters.cache.settlements import WriteBehindSettlements
from adapters.cache.write_behind import WriteBehindRequestLog
from adapters.email.outbox import QueuedNotifier
from adapters.email.transports import LogTransport, SmtpTransport
from adapters.huggingface.hub import HuggingFaceHub
from adapters.memory.attempts import MemoryAttemptLimiter
from adapters.memory.breakers import MemoryBreakerStore
from adapters.memory.bus import MemoryCacheBus
from adapters.memory.holds import MemoryHoldStore
from adapters.memory.hub_cache import MemoryHubCache
from adapters.memory.result_cache import MemoryResultCache
from adapters.postgres.engine import create_engine
from adapters.postgres.health import DatabaseProbe
from adapters.postgres.key_usage import PostgresKeyUsageStore
from adapters.postgres.requests import PostgresRequestLogStore
from adapters.privy.verifier import JwtPrivyVerifier
from adapters.providers.upstream import ProviderUpstream
from adapters.redis.attempts import RedisAttemptLimiter
from adapters.redis.breakers import RedisBreakerStore
from adapters.redis.bus import RedisCacheBus
from adapters.redis.client import create_redis
from adapters.redis.health import RedisProbe
from adapters.redis.holds import RedisHoldStore
from adapters.redis.hub_cache import RedisHubCache
from adapters.redis.result_cache import RedisResultCache
from adapters.redis.settlements import RedisSettlementStream
from adapters.system.passwords import Argon2Hasher
from domain.breaker import BreakerPolicy
from domain.services.drain_settlements import DrainSettlements
from domain.services.post_settlements import PostSettlements
from gatewayz.settings import Settings, env_float
from ports.breakers import BreakerStore
from ports.bus import CacheBus
from ports.catalog import CatalogRepository, CatalogSource
from ports.chat_history import ChatHistoryStore
from ports.clock import Clock
from ports.holds import HoldStore
from ports.telemetry import SettlementMetrics
from ports.uow import UnitOfWorkFactory


async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
    try:
        yield engine
    finally:
        await engine.dispose()


async def redis(settings: Settings) -> AsyncIterator[aioredis.Redis | None]:
    if not settings.redis_url:
        yield None
        return
    client = create_redis(settings.redis_url)
    try:
        yield client
    finally:
        await client.aclose()


async def bus(client: aioredis.Redis | None, settings: Settings) -> AsyncIterator[CacheBus]:
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


async def catalog_source(repository: CatalogRepository, bus: CacheBus) -> AsyncIterator[CachedCatalog]:
    """Loaded before the app serves; afterwards refreshed by every "catalog" broadcast."""
    source = CachedCatalog(repository, bus)
    await source.start()
    try:
        yield source
    finally:
        await source.stop()


def breakers(client: aioredis.Redis | None, settings: Settings, policy: BreakerPolicy,
              clock: Clock) -> BreakerStore:
    """Redis when configured (every process shares each breaker), else in-process."""
    if client is None:
        return MemoryBreakerStore(clock, policy)
    return RedisBreakerStore(client, settings.redis_prefix, policy, clock)


def catalog_providers(source: CatalogSource) -> Callable[[], list[str]]:
    """Breaker listings read the live catalog's provider slugs at call time."""
    return lambda: list(source.current().providers)


async def key_usage(engine: AsyncEngine, settings: Settings) -> AsyncIterator[BufferedKeyUsage]:
    """Keys' `last_used_at`, written behind every KEY_USAGE_FLUSH_SECONDS and on shutdown."""
    usage = BufferedKeyUsage(PostgresKeyUsageStore(engine),
                             interval_s=env_float(settings.env, "KEY_USAGE_FLUSH_SECONDS", 60.0))
    usage.start()
    try:
        yield usage
    finally:
        await usage.stop()


async def request_log(engine: AsyncEngine) -> AsyncIterator[WriteBehindRequestLog]:
    """Request rows are written off the request path and flushed on shutdown."""
    log = WriteBehindRequestLog(PostgresRequestLogStore(engine))
    log.start()
    try:
        yield log
    finally:
        await log.stop()


async def assistant_messages(store: ChatHistoryStore) -> AsyncIterator[WriteBehindAssistantMessages]:
    """Answers of chat completions with `session_id` go to their session off the request path, flushed on
    shutdown (the resource closes before the engine, which was opened first)."""
    log = WriteBehindAssistantMessages(store)
    log.start()
    try:
        yield log
    finally:
        await log.stop()


def holds(client: aioredis.Redis | None, settings: Settings) -> HoldStore:
    """Redis when configured (holds must be atomic across processes), else in-process."""
    if client is None:
        return MemoryHoldStore()
    return RedisHoldStore(client, settings.redis_prefix)


async def upstream(settings: Settings) -> AsyncIterator[ProviderUpstream]:
    upstream = ProviderUpstream(settings.env, connect_timeout_s=settings.upstream_connect_timeout_s,
                                read_timeout_s=settings.upstream_read_timeout_s,
                                first_byte_timeout_s=settings.upstream_first_byte_timeout_s)
    try:
        yield upstream
    finally:
        await upstream.close()


async def settlements(post: PostSettlements) -> AsyncIterator[WriteBehindSettlements]:
    """Ledger rows of settled requests are written in batches and flushed on shutdown."""
    journal = WriteBehindSettlements(post)
    journal.start()
    try:
        yield journal
    finally:
        await journal.stop()


def probes(engine: AsyncEngine, redis: aioredis.Redis | None) -> list[Any]:
    probes: list[Any] = [DatabaseProbe(engine)]
    if redis is not None:
        probes.append(RedisProbe(redis))
    return probes


async def settlement_drainer(client: aioredis.Redis | None, settings: Settings, engine: AsyncEngine,
                             post: PostSettlements, uow: UnitOfWorkFactory, holds: HoldStore, clock: Clock,
                             metrics: SettlementMetrics) -> AsyncIterator[SettlementDrainer | None]:
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


def password_hasher(settings: Settings) -> Argon2Hasher:
    a = settings.accounts
    return Argon2Hasher(time_cost=a.argon2_time_cost, memory_kib=a.argon2_memory_kib, parallelism=a.argon2_parallelism)


def privy_verifier(settings: Settings) -> JwtPrivyVerifier:
    a = settings.accounts
    return JwtPrivyVerifier(app_id=a.privy_app_id, verification_key=a.privy_verification_key,
                            jwks_url=a.privy_jwks_url, jwks_cache_s=a.privy_jwks_cache_s)


async def notifier(settings: Settings, registry: CollectorRegistry) -> AsyncIterator[QueuedNotifier]:
    """SMTP when configured, else the log (which exposes reset links: the app says so at startup);
    flushed on shutdown."""
    a = settings.accounts
    transport: SmtpTransport | LogTransport
    if a.notifier == "smtp":
        assert a.smtp_host is not None
        transport = SmtpTransport(host=a.smtp_host, port=a.smtp_port, sender=a.email_from, username=a.smtp_username,
                                  password=a.smtp_password, starttls=a.smtp_starttls)
    else:
        transport = LogTransport()
    queued = QueuedNotifier(transport, registry)
    try:
        yield queued
    finally:
        await queued.close()


def attempts(client: aioredis.Redis | None, settings: Settings) -> RedisAttemptLimiter | MemoryAttemptLimiter:
    if client is None:
        return MemoryAttemptLimiter()
    return RedisAttemptLimiter(client, settings.redis_prefix)


def result_cache(client: aioredis.Redis | None, settings: Settings,
                 clock: Clock) -> RedisResultCache | MemoryResultCache:
    """Computed admin answers (issue 14): shared by every process with Redis, else this process's own."""
    if client is None:
        return MemoryResultCache(clock)
    return RedisResultCache(client, settings.redis_prefix)  # the seed's key names after the prefix


def hub_cache(client: aioredis.Redis | None, settings: Settings, clock: Clock) -> RedisHubCache | MemoryHubCache:
    """Hugging Face metadata (issue 14): shared by every process with Redis, else this process's own."""
    if client is None:
        return MemoryHubCache(clock)
    return RedisHubCache(client, settings.redis_prefix)


def model_hub(settings: Settings) -> HuggingFaceHub:
    return HuggingFaceHub(settings.hf_endpoint, settings.hug_api_key, timeout_s=settings.hf_timeout_s)
