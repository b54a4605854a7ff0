"""HoldStore contract over memory and Redis: the same reservations, releases and expiry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import redis.asyncio as aioredis

from adapters.memory.holds import MemoryHoldStore
from adapters.redis.holds import RedisHoldStore
from domain.holds import BalanceUnknown
from ports.holds import HoldStore

NOW = 1_800_000_000.0


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[HoldStore]:
    if request.param == "memory":
        yield MemoryHoldStore()
        return
    client = aioredis.Redis.from_url(request.getfixturevalue("redis_url"))
    yield RedisHoldStore(client, request.getfixturevalue("redis_prefix"))
    await client.aclose()


async def test_an_unprimed_balance_is_reported_unknown(store: HoldStore) -> None:
    with pytest.raises(BalanceUnknown):
        await store.reserve(1, "r1", Decimal("1"), now=NOW, ttl_s=60)


async def test_holds_are_accepted_until_the_balance_is_covered(store: HoldStore) -> None:
    await store.prime(1, Decimal("1.00"))
    first = await store.reserve(1, "r1", Decimal("0.60"), now=NOW, ttl_s=60)
    second = await store.reserve(1, "r2", Decimal("0.60"), now=NOW, ttl_s=60)
    assert first.accepted and first.available == Decimal("1.00")
    assert not second.accepted and second.available == Decimal("0.40")
    assert [h.request_id for h in await store.open_holds(now=NOW)] == ["r1"]


async def test_settling_releases_the_hold_and_charges_the_balance_once(store: HoldStore) -> None:
    await store.prime(1, Decimal("1.00"))
    await store.reserve(1, "r1", Decimal("0.60"), now=NOW, ttl_s=60)
    await store.settle(1, "r1", Decimal("0.25"))
    await store.settle(1, "r1", Decimal("0.25"))  # replay: no second charge
    fits = await store.reserve(1, "r2", Decimal("0.75"), now=NOW, ttl_s=60)
    assert fits.accepted and fits.available == Decimal("0.75")


async def test_expired_holds_no_longer_count(store: HoldStore) -> None:
    await store.prime(1, Decimal("1.00"))
    await store.reserve(1, "crashed", Decimal("0.90"), now=NOW, ttl_s=60)
    assert not (await store.reserve(1, "r2", Decimal("0.50"), now=NOW + 30, ttl_s=60)).accepted
    assert (await store.reserve(1, "r3", Decimal("0.50"), now=NOW + 61, ttl_s=60)).accepted
    assert [h.request_id for h in await store.open_holds(now=NOW + 61)] == ["r3"]


async def test_priming_never_overwrites_and_forgetting_forces_a_new_prime(store: HoldStore) -> None:
    await store.prime(1, Decimal("1.00"))
    await store.prime(1, Decimal("50.00"))
    assert not (await store.reserve(1, "r1", Decimal("2.00"), now=NOW, ttl_s=60)).accepted
    await store.forget_balance(1)
    with pytest.raises(BalanceUnknown):
        await store.reserve(1, "r2", Decimal("2.00"), now=NOW, ttl_s=60)
    await store.prime(1, Decimal("50.00"))
    assert (await store.reserve(1, "r3", Decimal("2.00"), now=NOW, ttl_s=60)).accepted


async def test_users_do_not_share_balances(store: HoldStore) -> None:
    await store.prime(1, Decimal("1.00"))
    await store.prime(2, Decimal("5.00"))
    assert not (await store.reserve(1, "a", Decimal("2"), now=NOW, ttl_s=60)).accepted
    assert (await store.reserve(2, "b", Decimal("2"), now=NOW, ttl_s=60)).accepted


async def test_two_processes_never_hold_more_than_the_balance(redis_url: str, redis_prefix: str) -> None:
    clients = [aioredis.Redis.from_url(redis_url) for _ in range(2)]
    stores = [RedisHoldStore(c, redis_prefix) for c in clients]
    await stores[0].prime(9, Decimal("1.00"))
    results = await asyncio.gather(*(stores[i % 2].reserve(9, f"r{i}", Decimal("0.10"), now=NOW, ttl_s=60)
                                     for i in range(50)))
    assert sum(r.accepted for r in results) == 10
    for c in clients:
        await c.aclose()


async def test_held_totals_one_users_unexpired_holds(store: HoldStore) -> None:
    await store.prime(1, Decimal("5"))
    await store.prime(2, Decimal("5"))
    await store.reserve(1, "a", Decimal("0.25"), now=NOW, ttl_s=60)
    await store.reserve(1, "b", Decimal("0.50"), now=NOW, ttl_s=10)
    await store.reserve(2, "c", Decimal("1"), now=NOW, ttl_s=60)
    assert await store.held(1, now=NOW) == Decimal("0.75")
    assert await store.held(1, now=NOW + 11) == Decimal("0.25")
    assert await store.held(3, now=NOW) == 0
