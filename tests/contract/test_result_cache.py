"""The result cache: Redis and the in-process twin store, expire and delete alike; a lost Redis raises
CacheUnavailable (callers answer uncached)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from adapters.memory.clock import FixedClock
from adapters.memory.result_cache import MemoryResultCache
from adapters.redis.client import create_redis
from adapters.redis.result_cache import RedisResultCache
from ports.result_cache import CacheUnavailable, ResultCache
from tests.services import free_port


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[tuple[ResultCache, str]]:
    if request.param == "memory":
        yield MemoryResultCache(FixedClock(datetime(2026, 1, 1, tzinfo=UTC))), "memory"
        return
    client = create_redis(request.getfixturevalue("redis_url"))
    try:
        yield RedisResultCache(client, redis_prefix), "redis"
    finally:
        await client.aclose()


async def test_set_get_delete(cache: tuple[ResultCache, str]) -> None:
    c, _ = cache
    assert await c.get("a") is None
    await c.set("a", b"one", ttl_s=60)
    await c.set("b", b"two", ttl_s=60)
    assert (await c.get("a"), await c.get("b")) == (b"one", b"two")
    await c.set("a", b"uno", ttl_s=60)
    assert await c.get("a") == b"uno"
    await c.delete("a")
    assert await c.get("a") is None and await c.get("b") == b"two"


async def test_entries_expire(cache: tuple[ResultCache, str]) -> None:
    c, kind = cache
    await c.set("short", b"x", ttl_s=1)
    assert await c.get("short") == b"x"
    if kind == "memory":
        c._clock.advance(1.5)  # type: ignore[attr-defined]
    else:
        await asyncio.sleep(1.2)
    assert await c.get("short") is None


async def test_unreachable_redis_raises_cache_unavailable() -> None:
    client = create_redis(f"redis://127.0.0.1:{free_port()}/0")
    try:
        c = RedisResultCache(client, "x:", timeout_s=0.3)
        with pytest.raises(CacheUnavailable):
            await c.get("k")
        with pytest.raises(CacheUnavailable):
            await c.set("k", b"v", ttl_s=5)
    finally:
        await client.aclose()
