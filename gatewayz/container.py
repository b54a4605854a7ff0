"""The composition root's wiring: which adapter serves which port, chosen by settings."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis
from dependency_injector import containers, providers
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.cache.key_directory import CachedKeyDirectory
from adapters.memory.bus import MemoryCacheBus
from adapters.postgres.accounts import PostgresKeyDirectory
from adapters.postgres.engine import create_engine
from adapters.postgres.health import DatabaseProbe
from adapters.postgres.uow import PostgresUnitOfWorkFactory
from adapters.redis.bus import RedisCacheBus
from adapters.redis.client import create_redis
from adapters.redis.health import RedisProbe
from adapters.system.clock import SystemClock
from adapters.system.ids import RandomIdGenerator
from domain.services.authenticate import Authenticate
from domain.services.authorize_admin import AuthorizeAdmin
from domain.services.check_readiness import CheckReadiness
from domain.services.create_user import CreateUser
from domain.services.issue_api_key import IssueApiKey
from domain.services.revoke_api_key import RevokeApiKey
from domain.services.user_queries import CountUsers, ListUsers, ShowUser
from gatewayz.secrets import key_secret
from gatewayz.settings import Settings
from ports.bus import CacheBus


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


def build_container(settings: Settings) -> Container:
    return Container(settings=settings)


async def resolve(provider: Any) -> Any:
    """Providers that depend on async resources return awaitables; others return values."""
    value = provider()
    if inspect.isawaitable(value):
        value = await value
    return value
