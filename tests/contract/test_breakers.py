"""One BreakerStore suite over the memory and Redis adapters: both must make the transitions the
domain rules make, step for step (the Lua script mirrors domain/breaker.py)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as aioredis

from adapters.memory.breakers import MemoryBreakerStore
from adapters.memory.clock import FixedClock
from adapters.redis.breakers import RedisBreakerStore
from adapters.redis.client import create_redis
from domain.breaker import BreakerPolicy, BreakerState, BreakerStatus, effective, on_outcome
from domain.errors import ServiceUnavailable
from ports.breakers import BreakerStore

POLICY = BreakerPolicy()
CLOSED, OPEN, HALF = BreakerStatus.CLOSED, BreakerStatus.OPEN, BreakerStatus.HALF_OPEN


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = create_redis(redis_url)
    yield client
    await client.aclose()


@pytest.fixture(params=["memory", "redis"])
def make(request: pytest.FixtureRequest) -> Callable[[FixedClock], BreakerStore]:
    if request.param == "memory":
        return lambda clock: MemoryBreakerStore(clock, POLICY)
    client = request.getfixturevalue("redis_client")
    prefix = request.getfixturevalue("redis_prefix")
    return lambda clock: RedisBreakerStore(client, prefix, POLICY, clock)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def store(make: Callable[[FixedClock], BreakerStore], clock: FixedClock) -> BreakerStore:
    return make(clock)


async def fail(store: BreakerStore, provider: str, n: int) -> BreakerState:
    state = None
    for _ in range(n):
        state = await store.record(provider, False)
    assert state is not None
    return state


async def test_providers_never_seen_are_closed(store: BreakerStore) -> None:
    states = await store.states(["a", "b"])
    assert states == {"a": BreakerState(provider="a"), "b": BreakerState(provider="b")}
    assert await store.states([]) == {}
    assert await store.all() == {}


async def test_five_failures_open_then_half_open_then_two_successes_close(
        store: BreakerStore, clock: FixedClock) -> None:
    assert (await fail(store, "p", 4)).status is CLOSED
    opened = await store.record("p", False)
    assert opened.status is OPEN and opened.opened_at == clock.now().timestamp()
    assert (await store.states(["p"]))["p"].status is OPEN
    clock.advance(59.5)
    assert not (await store.states(["p"]))["p"].allows_traffic(clock.now().timestamp(), POLICY)
    clock.advance(0.5)
    assert (await store.states(["p"]))["p"].status is HALF
    assert (await store.record("p", True)).status is HALF
    closed = await store.record("p", True)
    assert closed.status is CLOSED and closed.opened_at is None and closed.total_failures == 5
    assert (await store.states(["p"]))["p"] == closed


async def test_a_failure_in_half_open_reopens(store: BreakerStore, clock: FixedClock) -> None:
    await fail(store, "p", 5)
    clock.advance(61)
    await store.record("p", True)
    reopened = await store.record("p", False)
    assert reopened.status is OPEN and reopened.opened_at == clock.now().timestamp()


async def test_half_failing_over_ten_requests_opens(store: BreakerStore, clock: FixedClock) -> None:
    for i in range(10):
        clock.advance(3)
        state = await store.record("p", i % 2 == 0)  # never two failures in a row
    assert state.status is OPEN and state.consecutive_failures == 1
    assert state.window_counts(clock.now().timestamp(), POLICY) == (10, 5)


async def test_breakers_are_per_provider(store: BreakerStore) -> None:
    await fail(store, "a", 5)
    states = await store.states(["a", "b"])
    assert states["a"].status is OPEN and states["b"].status is CLOSED


async def test_reset_and_reset_all_close_and_keep_providers_known(store: BreakerStore) -> None:
    await fail(store, "a", 5)
    await fail(store, "b", 2)
    assert await store.reset("a") == BreakerState(provider="a")
    assert (await store.states(["a"]))["a"] == BreakerState(provider="a")
    await fail(store, "a", 5)
    assert await store.reset_all() == ["a", "b"]
    assert await store.all() == {"a": BreakerState(provider="a"), "b": BreakerState(provider="b")}


async def test_all_lists_every_recorded_provider_with_its_state(store: BreakerStore) -> None:
    await fail(store, "a", 5)
    await store.record("b", True)
    every = await store.all()
    assert sorted(every) == ["a", "b"] and every["a"].status is OPEN and every["b"].total_successes == 1


@pytest.mark.parametrize("seed", range(8))
async def test_random_sequences_follow_the_domain_rules_step_for_step(
        store: BreakerStore, clock: FixedClock, seed: int) -> None:
    rng = random.Random(seed)
    expected = BreakerState(provider="p")
    for _ in range(150):
        clock.advance(rng.choice([0, 0.25, 1, 3.7, 9.99, 10, 25, 61]))
        ok = rng.random() < rng.choice([0.2, 0.5, 0.8])
        now = clock.now().timestamp()
        expected = on_outcome(expected, ok, now, POLICY)
        assert await store.record("p", ok) == expected
        assert (await store.states(["p"]))["p"] == effective(expected, now, POLICY)


async def test_concurrent_outcomes_are_all_counted(store: BreakerStore) -> None:
    await asyncio.gather(*(store.record("p", i % 3 != 0) for i in range(60)))
    state = (await store.states(["p"]))["p"]
    assert (state.total_successes, state.total_failures) == (40, 20)


async def test_state_recorded_by_one_process_is_seen_by_another(
        redis_url: str, redis_prefix: str, clock: FixedClock) -> None:
    a_client, b_client = create_redis(redis_url), create_redis(redis_url)
    try:
        a = RedisBreakerStore(a_client, redis_prefix, POLICY, clock)
        b = RedisBreakerStore(b_client, redis_prefix, POLICY, FixedClock())
        await fail(a, "p", 3)
        await fail(b, "p", 2)  # the streak is shared: this is the fifth failure
        assert (await a.states(["p"]))["p"].status is OPEN
        assert (await b.all())["p"].total_failures == 5
        await b.reset("p")
        assert (await a.states(["p"]))["p"].status is CLOSED
        other = RedisBreakerStore(a_client, redis_prefix + "other:", POLICY, clock)
        await fail(a, "q", 5)
        assert (await other.states(["q"]))["q"].status is CLOSED  # prefixes isolate deployments
    finally:
        await a_client.aclose()
        await b_client.aclose()


async def test_lost_redis_is_a_service_unavailable(clock: FixedClock) -> None:
    client = create_redis("redis://127.0.0.1:1/0", timeout_s=0.2)
    store = RedisBreakerStore(client, "gone:", POLICY, clock)
    try:
        for call in (store.states(["p"]), store.record("p", False), store.reset("p"), store.all()):
            with pytest.raises(ServiceUnavailable) as info:
                await call
            assert info.value.reason == "redis"
    finally:
        await client.aclose()


async def test_keys_are_prefixed_and_hash_tagged(redis_client: aioredis.Redis, redis_prefix: str,
                                                 clock: FixedClock) -> None:
    store = RedisBreakerStore(redis_client, redis_prefix, POLICY, clock)
    await store.record("openrouter", False)
    assert store.key("openrouter") == f"{redis_prefix}breaker:{{openrouter}}"
    assert 0 < await redis_client.ttl(store.key("openrouter")) <= 86_400
