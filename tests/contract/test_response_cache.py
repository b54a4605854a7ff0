"""One ResponseCache suite over the memory twin and Redis: an entry is read back until its TTL, a key
never written is a miss, a later write replaces an earlier one. The memory twin's LRU bound and the
lookup service's "a failing cache is a miss" are checked below the suite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import redis.asyncio as aioredis

from adapters.memory.clock import FixedClock
from adapters.memory.response_cache import MemoryResponseCache
from adapters.redis.client import create_redis
from adapters.redis.response_cache import RedisResponseCache
from domain.inference import Caller, InferenceRequest, Operation
from domain.response_cache import CachedAnswer, CacheStatus
from domain.services.response_caching import ResponseCaching
from ports.response_cache import ResponseCache
from tests.integration.inference_kit import closed_port_url

TTL_S = 0.3


class Counting:
    def __init__(self) -> None:
        self.results: list[str] = []
        self.savings: list[Decimal] = []

    def looked_up(self, result: str) -> None:
        self.results.append(result)

    def saved(self, amount: Decimal) -> None:
        self.savings.append(amount)


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[ResponseCache]:
    if request.param == "memory":
        yield MemoryResponseCache(_RealClock())
        return
    client: aioredis.Redis = create_redis(request.getfixturevalue("redis_url"))
    try:
        yield RedisResponseCache(client, request.getfixturevalue("redis_prefix"))
    finally:
        await client.aclose()


class _RealClock(FixedClock):
    """Monotonic time that moves, so TTLs expire in the same wall time as Redis's."""

    def monotonic(self) -> float:
        return asyncio.get_running_loop().time()


async def test_a_key_never_written_is_a_miss(cache: ResponseCache) -> None:
    assert await cache.get("nothing-here") is None


async def test_an_entry_reads_back_until_its_ttl_and_a_later_write_replaces_it(cache: ResponseCache) -> None:
    await cache.put("k", b"first", TTL_S)
    assert await cache.get("k") == b"first"
    await cache.put("k", b"second", TTL_S)
    assert await cache.get("k") == b"second"
    await asyncio.sleep(TTL_S + 0.2)
    assert await cache.get("k") is None


async def test_keys_are_independent(cache: ResponseCache) -> None:
    await cache.put("a", b"1", 60)
    await cache.put("b", b"2", 60)
    assert (await cache.get("a"), await cache.get("b")) == (b"1", b"2")


async def test_the_memory_twin_forgets_the_least_recently_used_entry_beyond_its_bound() -> None:
    cache = MemoryResponseCache(FixedClock(), max_entries=2)
    await cache.put("a", b"1", 60)
    await cache.put("b", b"2", 60)
    assert await cache.get("a") == b"1"  # "a" is now the most recently used
    await cache.put("c", b"3", 60)
    assert await cache.get("b") is None and await cache.get("a") == b"1" and await cache.get("c") == b"3"
    assert len(cache) == 2


ANSWER = CachedAnswer(message={"role": "assistant", "content": "hi"}, finish_reason="stop", prompt_tokens=3,
                      completion_tokens=1, provider="alpha", cost=Decimal("0.000005"))


def chat(**body: object) -> InferenceRequest:
    return InferenceRequest(operation=Operation.CHAT, model="m", body={"messages": [], **body})


async def test_a_stopped_redis_makes_misses_and_unkept_answers_never_errors() -> None:
    client = create_redis(closed_port_url().removesuffix("/v1").replace("http://", "redis://"), timeout_s=0.2)
    metrics = Counting()
    caching = ResponseCaching(RedisResponseCache(client, "x:"), metrics)
    try:
        lookup = await caching.lookup(Caller(user_id=1), "m", chat(), bypass=False)
        assert lookup.status is CacheStatus.MISS and lookup.key is not None and lookup.answer is None
        assert await caching.store(lookup.key, ANSWER) is False
    finally:
        await client.aclose()
    assert metrics.results == ["error", "store_error"]


async def test_a_hit_counts_its_savings_and_entries_over_one_mebibyte_are_not_kept() -> None:
    metrics = Counting()
    cache = MemoryResponseCache(FixedClock())
    caching = ResponseCaching(cache, metrics)
    lookup = await caching.lookup(Caller(user_id=1), "m", chat(), bypass=False)
    assert lookup.key is not None and await caching.store(lookup.key, ANSWER)
    hit = await caching.lookup(Caller(user_id=1), "m", chat(), bypass=False)
    assert hit.status is CacheStatus.HIT and hit.answer == ANSWER
    assert metrics.results == ["miss", "hit"] and metrics.savings == [ANSWER.cost]
    big = CachedAnswer(message={"role": "assistant", "content": "x" * (1024 * 1024)}, finish_reason="stop",
                       prompt_tokens=1, completion_tokens=1, provider="alpha", cost=Decimal(0))
    other = await caching.lookup(Caller(user_id=2), "m", chat(), bypass=False)
    assert other.key is not None and await caching.store(other.key, big) is False
    assert len(cache) == 1


async def test_anonymous_bypass_and_uncacheable_operations_skip_the_lookup() -> None:
    caching = ResponseCaching(MemoryResponseCache(FixedClock()), Counting())
    embeddings = InferenceRequest(operation=Operation.EMBEDDING, model="m", body={"input": "x"})
    for caller, request, bypass in ((Caller(), chat(), False), (Caller(user_id=1), chat(), True),
                                    (Caller(user_id=1), embeddings, False), (Caller(user_id=1), chat(n=2), False)):
        lookup = await caching.lookup(caller, "m", request, bypass=bypass)
        assert lookup.status is CacheStatus.BYPASS and lookup.key is None
    assert (await caching.lookup(Caller(user_id=8), "m", chat(), bypass=False)).status is CacheStatus.MISS
