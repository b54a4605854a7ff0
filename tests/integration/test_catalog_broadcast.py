"""A catalog load in one process reaches another through the Redis cache bus."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from adapters.cache.catalog import CachedCatalog
from adapters.catalog_file import load_catalog_file
from adapters.postgres.catalog import PostgresCatalogRepository
from adapters.postgres.engine import create_engine
from adapters.redis.bus import RedisCacheBus
from adapters.system.clock import SystemClock
from domain.services.load_catalog import LoadCatalog
from gatewayz.cli import DEFAULT_CATALOG


async def test_a_load_published_by_one_process_refreshes_the_others_snapshot(
        postgres_url: str, redis_url: str, redis_prefix: str) -> None:
    providers, models = load_catalog_file(DEFAULT_CATALOG)
    engines = [create_engine(postgres_url), create_engine(postgres_url)]
    clients = [aioredis.Redis.from_url(redis_url), aioredis.Redis.from_url(redis_url)]
    buses = [RedisCacheBus(c, prefix=redis_prefix + "bus:") for c in clients]
    for bus in buses:
        await bus.start()
    try:
        loader_repo, other_repo = (PostgresCatalogRepository(e) for e in engines)
        await loader_repo.replace(providers, models[:-1], now=SystemClock().now())
        other = CachedCatalog(other_repo, buses[1])
        await other.start()
        assert models[-1].id not in other.current().models

        await LoadCatalog(loader_repo, buses[0], SystemClock())(providers, models)
        for _ in range(100):
            if models[-1].id in other.current().models:
                break
            await asyncio.sleep(0.05)
        assert models[-1].id in other.current().models
        assert len(other.current().models) == len(models)
        await other.stop()
    finally:
        for bus in buses:
            await bus.stop()
        for c in clients:
            await c.aclose()
        for e in engines:
            await e.dispose()
