"""The rate limiter's Redis failure policy, with Redis cut and restored through a TCP proxy: fail
open (served, counted, logged) or fail closed (503); never a 500 or a hang; shared limiting resumes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from urllib.parse import urlparse

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from adapters.http.errors import status_of
from adapters.memory.clock import FixedClock
from adapters.memory.limits import MemoryLimitConfigRepository
from adapters.redis.client import create_redis
from adapters.redis.limits import RedisRateLimiter
from domain.errors import RateLimited, ServiceUnavailable
from domain.inference import Caller, InferenceRequest, Operation
from domain.limits import LimitConfig, key_subject
from domain.services.admit_request import AdmitRequest
from gatewayz.limits import rate_limiter
from gatewayz.settings import Settings
from ports.limits import RateLimiter
from tests.conftest import settings_env
from tests.fakes.tcp_proxy import TcpProxy

CONFIG = LimitConfig(**{**dict.fromkeys(LimitConfig.__struct_fields__), "requests_per_minute": 10})
CALLER = Caller(user_id=1, api_key_id=5)
REQUEST = InferenceRequest(operation=Operation.CHAT, model="m", body={}, max_tokens=1)


@pytest.fixture
async def proxy(redis_url: str) -> AsyncIterator[TcpProxy]:
    target = urlparse(redis_url)
    p = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379)
    await p.start()
    yield p
    await p.stop()


@pytest.fixture
async def clients(redis_url: str, proxy: TcpProxy) -> AsyncIterator[tuple[aioredis.Redis, aioredis.Redis]]:
    """(through the proxy: this process's view of Redis; direct: another process's)."""
    proxied = urlparse(redis_url)._replace(netloc=f"127.0.0.1:{proxy.port}").geturl()
    through, direct = create_redis(proxied, timeout_s=0.5), create_redis(redis_url)
    yield through, direct
    await through.aclose()
    await direct.aclose()


def composed(client: aioredis.Redis, prefix: str, clock: FixedClock, *, fail_closed: bool
             ) -> tuple[RateLimiter, CollectorRegistry]:
    """The container's composition (gatewayz.limits.rate_limiter), on a registry of its own."""
    settings = Settings.from_env(settings_env(REDIS_PREFIX=prefix, RATE_LIMIT_FAIL_CLOSED=str(fail_closed).lower(),
                                              RATE_LIMIT_REDIS_TIMEOUT_SECONDS="0.5"))
    registry = CollectorRegistry()
    return rate_limiter(client, settings, registry, clock), registry


def degraded(registry: CollectorRegistry) -> float:
    return registry.get_sample_value("rate_limiter_degraded_total") or 0.0


async def outcomes(admit: AdmitRequest, n: int) -> list[str]:
    out = []
    for _ in range(n):
        try:
            await admit(CALLER, REQUEST)
            out.append("ok")
        except RateLimited:
            out.append("429")
    return out


async def test_fail_open_keeps_serving_counts_and_resumes_shared_limiting(
        clients: tuple[aioredis.Redis, aioredis.Redis], proxy: TcpProxy, redis_prefix: str) -> None:
    through, direct = clients
    clock = FixedClock()
    limiter, registry = composed(through, redis_prefix, clock, fail_closed=False)
    here = AdmitRequest(limiter, MemoryLimitConfigRepository(), clock, defaults=CONFIG)
    other = AdmitRequest(RedisRateLimiter(direct, redis_prefix), MemoryLimitConfigRepository(), clock,
                         defaults=CONFIG)
    assert await outcomes(here, 4) + await outcomes(other, 4) == ["ok"] * 8  # 8 of 10 used, fleet-wide
    held = await here(CALLER, REQUEST)  # a Redis lease, in flight when Redis goes away

    await proxy.stop()
    started = time.perf_counter()
    assert await outcomes(here, 12) == ["ok"] * 10 + ["429"] * 2  # served by this process's own limiter
    assert time.perf_counter() - started < 1.0
    assert degraded(registry) == 12
    await here.settle(held, actual_tokens=1)  # never raises: retried in the background, or its TTL frees it

    await proxy.start()
    clock.advance(1.0)  # the primary is probed again; a sixth of a request refilled meanwhile
    assert await outcomes(here, 2) == ["ok", "429"]  # the shared window again: the other process's 4 count
    assert await outcomes(other, 1) == ["429"]
    assert degraded(registry) == 13  # the held lease's release, skipped during the outage
    await here.drain()  # the background retry returned the held lease once Redis was back
    assert held.lease_id and not await RedisRateLimiter(direct, redis_prefix).settle(
        key_subject(5), CONFIG, held.lease_id, held.tokens_estimate, None, clock.now().timestamp())


async def test_fail_closed_answers_503_and_recovers(
        clients: tuple[aioredis.Redis, aioredis.Redis], proxy: TcpProxy, redis_prefix: str) -> None:
    through, _ = clients
    clock = FixedClock()
    limiter, registry = composed(through, redis_prefix, clock, fail_closed=True)
    admit = AdmitRequest(limiter, MemoryLimitConfigRepository(), clock, defaults=CONFIG)
    assert await outcomes(admit, 1) == ["ok"]
    await proxy.stop()
    for _ in range(2):
        with pytest.raises(ServiceUnavailable) as info:
            await admit(CALLER, REQUEST)
        assert status_of(info.value) == 503 and info.value.retry_after == 1
    assert degraded(registry) == 2
    await proxy.start()
    clock.advance(1.0)
    assert await outcomes(admit, 1) == ["ok"]


async def test_a_redis_that_accepts_but_never_answers_costs_one_short_timeout(
        clients: tuple[aioredis.Redis, aioredis.Redis], proxy: TcpProxy, redis_prefix: str) -> None:
    through, _ = clients
    clock = FixedClock()
    limiter, registry = composed(through, redis_prefix, clock, fail_closed=False)
    admit = AdmitRequest(limiter, MemoryLimitConfigRepository(), clock, defaults=CONFIG)
    await proxy.stop()
    proxy.blackhole = True
    await proxy.start()
    started = time.perf_counter()
    assert await outcomes(admit, 5) == ["ok"] * 5
    elapsed = time.perf_counter() - started
    assert elapsed < 1.5, elapsed  # one timeout (0.5 s), not five: Redis is skipped until the retry interval
    assert degraded(registry) == 5


async def test_a_lease_taken_by_an_admission_whose_answer_was_lost_is_returned_on_recovery(
        clients: tuple[aioredis.Redis, aioredis.Redis], proxy: TcpProxy, redis_prefix: str) -> None:
    through, direct = clients
    clock = FixedClock()
    limiter, _ = composed(through, redis_prefix, clock, fail_closed=False)
    admit = AdmitRequest(limiter, MemoryLimitConfigRepository(), clock, defaults=CONFIG)
    shared = RedisRateLimiter(direct, redis_prefix)
    await admit.settle(await admit(CALLER, REQUEST), actual_tokens=1)  # a pooled connection, the script loaded
    proxy.mute = True  # the script runs in Redis, its answer never comes back
    await admit(CALLER, REQUEST)  # served locally after the timeout
    assert await shared.concurrency(key_subject(5), clock.now().timestamp()) == 1  # taken, unknown to us
    await proxy.stop()
    proxy.mute = False
    await proxy.start()
    clock.advance(1.0)
    back = await admit(CALLER, REQUEST)
    await limiter.drain()  # type: ignore[attr-defined]
    assert await shared.concurrency(key_subject(5), clock.now().timestamp()) == 1  # only `back`'s own
    await admit.settle(back, actual_tokens=1)
    assert await shared.concurrency(key_subject(5), clock.now().timestamp()) == 0
