"""LimitConfigRepository over memory, SQLite and PostgreSQL; its in-process cache and invalidation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from adapters.cache.limit_configs import CachedLimitConfigs
from adapters.memory.bus import MemoryCacheBus
from adapters.memory.limits import MemoryLimitConfigRepository
from adapters.memory.store import MemoryStore
from adapters.memory.uow import MemoryUnitOfWorkFactory
from adapters.postgres.engine import create_engine
from adapters.postgres.limits import PostgresLimitConfigRepository
from adapters.postgres.uow import PostgresUnitOfWorkFactory
from domain.errors import NotFound, ServiceUnavailable
from domain.invalidation import ALL, LIMITS_TOPIC
from domain.limits import KeyLimits
from ports.limits import LimitConfigRepository
from ports.uow import UnitOfWorkFactory
from tests.contract.test_accounts import add_key, add_user, tag

T0 = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)


@dataclass
class World:
    configs: LimitConfigRepository
    uow: UnitOfWorkFactory

    async def key(self) -> int:
        user = await add_user(self.uow, f"limits-{tag()}@example.com")
        return (await add_key(self.uow, user.id)).id


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def world(request: pytest.FixtureRequest) -> AsyncIterator[World]:
    if request.param == "memory":
        store = MemoryStore()
        yield World(MemoryLimitConfigRepository(store), MemoryUnitOfWorkFactory(store))
        return
    engine = create_engine(request.getfixturevalue(f"{request.param}_url"))
    yield World(PostgresLimitConfigRepository(engine), PostgresUnitOfWorkFactory(engine))
    await engine.dispose()


async def test_a_key_without_a_row_has_no_overrides(world: World) -> None:
    assert await world.configs.get(await world.key()) is None


async def test_put_stores_every_scope_and_replaces_the_row_whole(world: World) -> None:
    key = await world.key()
    first = KeyLimits(requests_per_minute=5, requests_per_hour=50, requests_per_day=500, tokens_per_minute=6000,
                      tokens_per_hour=60_000, tokens_per_day=5_000_000_000, concurrent_requests=3)
    assert await world.configs.put(key, first, now=T0) == first
    assert await world.configs.get(key) == first
    second = KeyLimits(requests_per_minute=7)  # the others back to the defaults (NULL)
    await world.configs.put(key, second, now=T0 + timedelta(hours=1))
    assert await world.configs.get(key) == second


async def test_an_unknown_key_cannot_be_configured(world: World) -> None:
    with pytest.raises(NotFound):
        await world.configs.put(987_654_321, KeyLimits(requests_per_minute=1), now=T0)


class CountingRepository(MemoryLimitConfigRepository):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.down = False

    async def get(self, api_key_id: int) -> KeyLimits | None:
        self.reads += 1
        if self.down:
            raise ServiceUnavailable("Database unavailable", reason="database")
        return await super().get(api_key_id)


async def test_the_cache_serves_hits_and_drops_entries_on_broadcast() -> None:
    inner, bus = CountingRepository(), MemoryCacheBus()
    cache = CachedLimitConfigs(inner, bus, ttl_s=3600)
    await inner.put(1, KeyLimits(requests_per_minute=9), now=T0)
    assert (await cache.get(1), await cache.get(1), await cache.get(2)) == (KeyLimits(requests_per_minute=9), KeyLimits(
        requests_per_minute=9), None)
    assert inner.reads == 2
    await inner.put(1, KeyLimits(requests_per_minute=3), now=T0)  # written by another process
    await bus.publish(LIMITS_TOPIC, "1")
    assert await cache.get(1) == KeyLimits(requests_per_minute=3) and inner.reads == 3
    await bus.publish(LIMITS_TOPIC, ALL)
    assert len(cache) == 0


async def test_the_cache_keeps_serving_a_known_row_while_the_database_is_down() -> None:
    inner = CountingRepository()
    cache = CachedLimitConfigs(inner, MemoryCacheBus(), ttl_s=0)
    await inner.put(1, KeyLimits(requests_per_minute=9), now=T0)
    assert await cache.get(1) == KeyLimits(requests_per_minute=9)
    inner.down = True
    assert await cache.get(1) == KeyLimits(requests_per_minute=9)
    with pytest.raises(ServiceUnavailable):
        await cache.get(2)
