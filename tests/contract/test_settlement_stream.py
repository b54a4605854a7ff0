"""SettlementStream contract over memory and Redis, driven through the hold store that appends to it:
a settlement is journaled with its hold's release, once; each entry goes to one consumer until it is
left unacknowledged too long; acknowledging takes its charge off the unposted total once; holds that
lapse unsettled are journaled as expiries, once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import redis.asyncio as aioredis

from adapters.memory.holds import MemoryHoldStore
from adapters.memory.settlements import MemoryJournal, MemorySettlementStream
from adapters.redis.holds import RedisHoldStore
from adapters.redis.settlements import RedisSettlementStream
from domain.requests import RequestRecord
from domain.settlements import ExpiredHold, PendingCharge, SettledRequest
from ports.holds import HoldStore
from ports.settlements import SettlementStream

NOW = 1_800_000_000.0
AT = datetime(2026, 6, 1, tzinfo=UTC)
IDLE_S = 0.2


@dataclass
class Journal:
    holds: HoldStore
    consumer: Callable[[str], SettlementStream]


@pytest.fixture(params=["memory", "redis"])
async def journal(request: pytest.FixtureRequest) -> AsyncIterator[Journal]:
    if request.param == "memory":
        shared = MemoryJournal()
        yield Journal(MemoryHoldStore(shared), lambda name: MemorySettlementStream(shared, name, claim_idle_s=IDLE_S))
        return
    client = aioredis.Redis.from_url(request.getfixturevalue("redis_url"))
    prefix = request.getfixturevalue("redis_prefix")
    yield Journal(RedisHoldStore(client, prefix),
                  lambda name: RedisSettlementStream(client, prefix, consumer=name, claim_idle_s=IDLE_S))
    await client.aclose()


def settled(user_id: int, request_id: str, amount: str | None) -> SettledRequest:
    record = RequestRecord(request_id=request_id, created_at=AT, model="acme/chat", status="completed",
                           user_id=user_id, api_key_id=3, provider="alpha", input_tokens=11, output_tokens=21,
                           processing_time_ms=40, cost_usd=Decimal(amount) if amount else None)
    charge = PendingCharge(user_id=user_id, request_id=request_id, amount=Decimal(amount), created_at=AT,
                           description="API usage: acme/chat", created_by="api_key:3",
                           metadata={"model": "acme/chat", "held": "0.000206"}) if amount else None
    return SettledRequest(record=record, charge=charge)


async def hold(store: HoldStore, user_id: int, request_id: str, amount: str = "0.5", ttl_s: float = 60) -> None:
    await store.prime(user_id, Decimal(10))
    assert (await store.reserve(user_id, request_id, Decimal(amount), now=NOW, ttl_s=ttl_s)).accepted


async def test_a_settlement_is_journaled_whole_with_its_release_and_only_once(journal: Journal) -> None:
    assert journal.holds.journaled
    await hold(journal.holds, 1, "r1")
    entry = settled(1, "r1", "0.0000123456")
    assert await journal.holds.settle(1, "r1", Decimal("0.0000123456"), entry=entry)
    assert not await journal.holds.settle(1, "r1", Decimal("0.0000123456"), entry=entry)  # a replay
    got = await journal.consumer("a").read(10)
    assert [e.item for e in got] == [entry]  # field for field: Decimal, datetime, metadata
    # exact, or (Redis) in micro-USD rounded up: never less than the charge (priming stays cautious)
    assert Decimal("0.0000123456") <= await journal.holds.unposted(1) <= Decimal("0.000013")
    assert await journal.holds.held(1, now=NOW) == 0


async def test_acknowledged_entries_leave_the_journal_and_the_unposted_total(journal: Journal) -> None:
    for rid, amount in (("a1", "0.25"), ("a2", "0.5"), ("a3", None)):
        await hold(journal.holds, 2, rid)
        await journal.holds.settle(2, rid, Decimal(amount or 0), entry=settled(2, rid, amount))
    stream = journal.consumer("a")
    entries = await stream.read(10)
    assert await stream.backlog() == 3 and await journal.holds.unposted(2) == Decimal("0.75")
    await stream.ack(entries[:1])
    assert await journal.holds.unposted(2) == Decimal("0.5")
    await stream.ack(entries)
    assert await stream.backlog() == 0 and await journal.holds.unposted(2) == 0
    assert await stream.read(10) == [] and await stream.claim_stale(10) == []


async def test_an_entry_goes_to_one_consumer_until_it_is_left_unacknowledged_too_long(journal: Journal) -> None:
    await hold(journal.holds, 3, "c1")
    await journal.holds.settle(3, "c1", Decimal("0.1"), entry=settled(3, "c1", "0.1"))
    dead, alive = journal.consumer("dead"), journal.consumer("alive")
    taken = await dead.read(10)
    assert len(taken) == 1
    assert await alive.read(10) == [] and await alive.claim_stale(10) == []  # not idle long enough yet
    await asyncio.sleep(IDLE_S + 0.1)
    claimed = await alive.claim_stale(10)
    assert [e.id for e in claimed] == [e.id for e in taken] and claimed[0].item == taken[0].item
    await alive.ack(claimed)
    await dead.ack(taken)  # the slow original acknowledges too: the charge leaves the total once
    assert await journal.holds.unposted(3) == 0 and await alive.backlog() == 0


async def test_holds_that_lapse_unsettled_are_journaled_as_expiries_once(journal: Journal) -> None:
    await hold(journal.holds, 4, "gone", amount="0.75", ttl_s=10)
    await hold(journal.holds, 4, "kept", amount="0.25", ttl_s=10)
    await journal.holds.settle(4, "kept", Decimal("0.1"), entry=settled(4, "kept", "0.1"))
    assert await journal.holds.expire(now=NOW + 5) == 0  # not lapsed yet
    assert await journal.holds.expire(now=NOW + 11) == 1
    assert await journal.holds.expire(now=NOW + 12) == 0
    # the user's next reservation purges lapsed holds too; nothing is journaled twice
    assert (await journal.holds.reserve(4, "next", Decimal("1"), now=NOW + 13, ttl_s=10)).accepted
    items = [e.item for e in await journal.consumer("a").read(10)]
    assert items[0] == settled(4, "kept", "0.1")
    assert items[1:] == [ExpiredHold(user_id=4, request_id="gone", amount=Decimal("0.75"), expired_at=NOW + 10)]


async def test_a_reservation_journals_the_lapsed_holds_it_purges(journal: Journal) -> None:
    await hold(journal.holds, 5, "lapsed", amount="0.5", ttl_s=10)
    assert (await journal.holds.reserve(5, "new", Decimal("1"), now=NOW + 11, ttl_s=10)).accepted
    assert await journal.holds.expire(now=NOW + 11) == 0  # already journaled by the reservation
    items = [e.item for e in await journal.consumer("a").read(10)]
    assert items == [ExpiredHold(user_id=5, request_id="lapsed", amount=Decimal("0.5"), expired_at=NOW + 10)]
