"""The Hugging Face metadata cache: Redis and the in-process twin index, expire and clear alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from adapters.memory.clock import FixedClock
from adapters.memory.hub_cache import MemoryHubCache
from adapters.redis.client import create_redis
from adapters.redis.hub_cache import RedisHubCache
from ports.model_hub import HubMetadataCache

START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[tuple[HubMetadataCache, str]]:
    if request.param == "memory":
        yield MemoryHubCache(FixedClock(START)), "memory"
        return
    client = create_redis(request.getfixturevalue("redis_url"))
    try:
        yield RedisHubCache(client, redis_prefix), "redis"
    finally:
        await client.aclose()


async def test_index_expiry_and_clear(cache: tuple[HubMetadataCache, str]) -> None:
    c, kind = cache
    assert await c.entries() == {}
    await c.store("b/two", {"id": "b/two"}, now=START, ttl_s=3600)
    await c.store("a/one", {"id": "a/one"}, now=START, ttl_s=1)
    assert list(await c.entries()) == ["a/one", "b/two"]
    assert (await c.entries())["b/two"] == START
    if kind == "memory":
        c._clock.advance(1.5)  # type: ignore[attr-defined]
    else:
        await asyncio.sleep(1.2)
    assert list(await c.entries()) == ["b/two"]  # the expired one also leaves the index
    assert await c.clear() == 1
    assert await c.entries() == {}
