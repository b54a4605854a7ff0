"""One RateLimiter suite over the in-process and the Redis adapter: identical decisions (the Lua script
mirrors domain/limits.py), fleet-wide counting, and no leaked concurrency slot."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from adapters.memory.clock import FixedClock
from adapters.memory.limits import MemoryLimitConfigRepository, MemoryRateLimiter
from adapters.redis.client import create_redis
from adapters.redis.limits import RedisRateLimiter
from domain.errors import RateLimited
from domain.inference import Caller, InferenceRequest, Operation
from domain.limits import Decision, LimitConfig, Scope, key_subject
from domain.services.admit_request import AdmitRequest
from ports.limits import RateLimiter

OFF = dict.fromkeys(LimitConfig.__struct_fields__)


def only(**limits: int) -> LimitConfig:
    return LimitConfig(**{**OFF, **limits})


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = create_redis(redis_url, timeout_s=5.0)  # a busy test machine is not a Redis outage
    yield client
    await client.aclose()


Make = Callable[..., RateLimiter]


@pytest.fixture(params=["memory", "redis"])
def make(request: pytest.FixtureRequest) -> Make:
    if request.param == "memory":
        return lambda **kw: MemoryRateLimiter(**kw)
    client = request.getfixturevalue("redis_client")
    prefix = request.getfixturevalue("redis_prefix")
    # a generous timeout: these tests are about the algorithm, not about a slow Redis on a busy machine
    return lambda **kw: RedisRateLimiter(client, prefix, **{"timeout_s": 5.0, **kw})


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


def at(clock: FixedClock) -> float:
    return clock.now().timestamp()


def chat(max_tokens: int = 50) -> InferenceRequest:
    return InferenceRequest(operation=Operation.CHAT, model="m", body={}, max_tokens=max_tokens,
                            prompt_tokens_estimate=10)


async def test_the_window_admits_the_limit_and_refills_with_time(make: Make, clock: FixedClock) -> None:
    limiter = make()
    config = only(requests_per_minute=5, tokens_per_minute=1000)
    decisions = [await limiter.admit("s", config, 100, at(clock)) for _ in range(7)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 2
    assert decisions[-1].scope is Scope.REQUESTS_PER_MINUTE and decisions[-1].retry_after_s == pytest.approx(12)
    tokens = decisions[4].status(Scope.TOKENS_PER_MINUTE)
    assert tokens is not None and tokens.remaining == 500
    clock.advance(12)
    assert (await limiter.admit("s", config, 100, at(clock))).allowed
    assert not (await limiter.admit("s", config, 100, at(clock))).allowed


async def test_settlement_corrects_tokens_once_and_frees_the_slot(make: Make, clock: FixedClock) -> None:
    limiter = make()
    config = only(tokens_per_minute=1000, concurrent_requests=1)
    d = await limiter.admit("s", config, 900, at(clock))
    assert d.lease_id and (await limiter.admit("s", config, 1, at(clock))).scope is Scope.CONCURRENT_REQUESTS
    assert await limiter.settle("s", config, d.lease_id, 900, 300, at(clock))
    assert not await limiter.settle("s", config, d.lease_id, 900, 300, at(clock))
    assert await limiter.concurrency("s", at(clock)) == 0
    after = await limiter.admit("s", config, 700, at(clock))
    assert after.allowed and after.status(Scope.TOKENS_PER_MINUTE).remaining == 0  # type: ignore[union-attr]


async def test_a_dead_process_lease_expires_on_its_own(make: Make, clock: FixedClock) -> None:
    limiter = make(lease_ttl_s=20.0)
    config = only(concurrent_requests=1)
    orphan = await limiter.admit("s", config, 0, at(clock))  # its process dies: never settled
    assert not (await limiter.admit("s", config, 0, at(clock))).allowed
    clock.advance(20)
    assert await limiter.concurrency("s", at(clock)) == 0
    assert (await limiter.admit("s", config, 0, at(clock))).allowed
    assert orphan.lease_id and not await limiter.settle("s", config, orphan.lease_id, 0, None, at(clock))


def _comparable(d: Decision) -> tuple[Any, ...]:
    return d.allowed, d.scope, d.limit, d.retry_after_s, d.statuses, d.lease_id is not None


async def _script(limiter: RateLimiter, seed: int) -> list[Any]:
    rng, clock, out = random.Random(seed), FixedClock(), []
    config = LimitConfig(requests_per_minute=20, requests_per_hour=90, requests_per_day=150, tokens_per_minute=7000,
                         tokens_per_hour=25_000, tokens_per_day=None, concurrent_requests=6)
    leases: list[tuple[str, int]] = []
    for _ in range(500):
        roll = rng.random()
        if roll < 0.55:
            tokens = rng.randint(0, 3000)
            d = await limiter.admit("s", config, tokens, at(clock))
            out.append(_comparable(d))
            if d.lease_id:
                leases.append((d.lease_id, tokens))
        elif roll < 0.85 and leases:
            lease, estimate = leases.pop(rng.randrange(len(leases)))
            actual = rng.choice([None, rng.randint(0, 4000)])
            out.append(await limiter.settle("s", config, lease, estimate, actual, at(clock)))
        else:
            clock.advance(rng.random() * rng.choice([1, 10, 120]))
            out.append(await limiter.concurrency("s", at(clock)))
    return out


async def test_memory_and_redis_reach_identical_decisions(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    for seed in (1, 2, 3):
        memory = await _script(MemoryRateLimiter(lease_ttl_s=45.0), seed)
        shared = await _script(RedisRateLimiter(redis_client, f"{redis_prefix}{seed}:", lease_ttl_s=45.0), seed)
        assert len(memory) == 500 and memory == shared
        assert any(isinstance(x, tuple) and not x[0] for x in memory)  # the script does hit every kind of limit


async def test_two_processes_sharing_one_redis_admit_exactly_the_limit(redis_url: str, redis_prefix: str) -> None:
    clock = FixedClock()
    clients = [create_redis(redis_url, timeout_s=5.0), create_redis(redis_url, timeout_s=5.0)]
    processes = [AdmitRequest(RedisRateLimiter(c, redis_prefix, timeout_s=5.0), MemoryLimitConfigRepository(), clock,
                              defaults=only(requests_per_minute=30)) for c in clients]
    caller = Caller(user_id=1, api_key_id=42)

    async def one(i: int) -> tuple[int, bool]:
        try:
            await processes[i % 2](caller, chat())
            return i % 2, True
        except RateLimited:
            return i % 2, False

    try:
        outcomes = await asyncio.gather(*(one(i) for i in range(100)))
    finally:
        for c in clients:
            await c.aclose()
    per_process = [sum(ok for p, ok in outcomes if p == n) for n in (0, 1)]
    print(f"\ntwo processes, 30 rpm, 100 requests: admitted {per_process[0]} + {per_process[1]} = {sum(per_process)}")
    assert sum(per_process) == 30 and all(n > 0 for n in per_process)


async def test_cancelled_requests_at_random_points_leave_no_slot_taken(make: Make) -> None:
    """500 requests (a stream each: admit, chunks, settle in `finally`), every one cancelled by its
    client at a random moment, some in the middle of the admission round trip itself."""
    clock, limiter = FixedClock(), make(lease_ttl_s=3600.0)  # expiry must not be what frees the slots
    admit = AdmitRequest(limiter, MemoryLimitConfigRepository(), clock,
                         defaults=only(concurrent_requests=100, requests_per_minute=100_000))
    await asyncio.gather(*(limiter.concurrency("warm-up", 0.0) for _ in range(200)))  # a warm pool, as in service
    rng = random.Random(7)
    outcome = {"completed": 0, "refused": 0, "cancelled while admitting": 0, "cancelled while streaming": 0}

    async def stream() -> None:
        await asyncio.sleep(rng.random() * 0.3)  # arrivals spread over time
        try:
            admission = await admit(Caller(user_id=1, api_key_id=77), chat())
        except asyncio.CancelledError:
            outcome["cancelled while admitting"] += 1
            raise
        except RateLimited:
            outcome["refused"] += 1
            raise
        try:
            for _ in range(rng.randint(0, 5)):
                await asyncio.sleep(rng.random() * 0.1)
        except asyncio.CancelledError:
            outcome["cancelled while streaming"] += 1
            raise
        finally:
            await admit.settle(admission, actual_tokens=rng.randint(0, 100))
        outcome["completed"] += 1

    tasks = [asyncio.create_task(stream()) for _ in range(500)]
    loop = asyncio.get_running_loop()
    for task in tasks:
        loop.call_later(rng.random() * 0.6, task.cancel)
    await asyncio.gather(*tasks, return_exceptions=True)
    await admit.drain()
    slots = await limiter.concurrency(key_subject(77), at(clock))
    print(f"\n{type(limiter).__name__}: 500 cancelled streams {outcome} -> {slots} slots taken")
    assert outcome["cancelled while streaming"] >= 50 and slots == 0


async def test_a_client_gone_during_the_admission_round_trip_leaks_no_slot(make: Make) -> None:
    """The limiter took the lease but its caller was cancelled before it could see it: the service
    returns the lease as soon as the answer lands."""
    clock, limiter = FixedClock(), make(lease_ttl_s=3600.0)
    admit = AdmitRequest(limiter, MemoryLimitConfigRepository(), clock, defaults=only(concurrent_requests=1000))
    tasks = [asyncio.create_task(admit(Caller(user_id=1, api_key_id=78), chat())) for _ in range(200)]
    await asyncio.sleep(0)
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    await admit.drain()
    cancelled = sum(isinstance(r, asyncio.CancelledError) for r in results)
    assert cancelled > 0 and await limiter.concurrency(key_subject(78), at(clock)) == 0
