"""ActivityQueries over memory, SQLite and PostgreSQL: the page and the sums are exact on seeded rows."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from adapters.memory.activity import MemoryActivityQueries
from adapters.memory.requests import MemoryRequestLogStore
from adapters.memory.store import MemoryStore
from adapters.memory.uow import MemoryUnitOfWorkFactory
from adapters.postgres.activity import PostgresActivityQueries
from adapters.postgres.engine import create_engine
from adapters.postgres.requests import PostgresRequestLogStore
from adapters.postgres.uow import PostgresUnitOfWorkFactory
from domain.accounts import NewUser
from domain.activity import ActivityFilter
from domain.api_keys import NewApiKey
from domain.requests import RequestRecord
from ports.activity import ActivityQueries
from ports.requests import RequestLogStore
from ports.uow import UnitOfWorkFactory

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@dataclass
class World:
    uow: UnitOfWorkFactory
    store: RequestLogStore
    queries: ActivityQueries


@pytest.fixture
async def world(database_url: str | None) -> AsyncIterator[World]:
    if database_url is None:
        memory = MemoryStore()
        yield World(MemoryUnitOfWorkFactory(memory), MemoryRequestLogStore(memory), MemoryActivityQueries(memory))
        return
    engine = create_engine(database_url)
    try:
        yield World(PostgresUnitOfWorkFactory(engine), PostgresRequestLogStore(engine), PostgresActivityQueries(engine))
    finally:
        await engine.dispose()


async def seeded(world: World) -> tuple[int, int, int]:
    """A user with two keys and six requests over three days, plus another user's request."""
    t = uuid.uuid4().hex[:12]
    async with world.uow() as u:
        user = await u.users.add(NewUser(email=f"act-{t}@example.com", username=f"act_{t}"), now=T0)
        other = await u.users.add(NewUser(email=f"other-{t}@example.com", username=f"other_{t}"), now=T0)
        keys = [await u.api_keys.add(NewApiKey(user_id=user.id, key_hash=uuid.uuid4().hex * 2, prefix="gw_live_abcd",
                                               last4="wxyz", name=name), now=T0) for name in ("web", "batch")]
        await u.commit()
    spec = [  # (minutes after T0, model, provider, status, in, out, cost, ms, key)
        (0, "m1", "p1", "completed", 10, 20, "0.0000100000", 100, 0),
        (60, "m1", "p2", "completed", 5, 5, "0.1000000001", 200, 1),
        (24 * 60, "m2", "p1", "failed", 7, 0, None, 50, 0),
        (24 * 60 + 1, "m2", "p1", "completed", 1, 2, "0.3333333333", 1000, 1),
        (48 * 60, "m1", "p1", "completed", 100, 300, "1.2500000000", 2000, 0),
        (-10 * 24 * 60, "m1", "p1", "completed", 1, 1, "9.0000000000", 10, 0),  # outside a 3-day window
    ]
    records = [RequestRecord(
        request_id=f"{t}-{i}", created_at=T0 + timedelta(minutes=m), model=model, provider=provider, status=status,
        user_id=user.id, api_key_id=keys[k].id, input_tokens=i_t, output_tokens=o_t,
        cost_usd=Decimal(cost) if cost else None, processing_time_ms=ms)
        for i, (m, model, provider, status, i_t, o_t, cost, ms, k) in enumerate(spec)]
    records.append(RequestRecord(request_id=f"{t}-x", created_at=T0, model="m1", status="completed", user_id=other.id,
                                 cost_usd=Decimal(5)))
    await world.store.add_many(records)
    return user.id, keys[0].id, keys[1].id


async def test_the_log_is_newest_first_filtered_and_paged(world: World) -> None:
    user_id, _, _ = await seeded(world)
    page = await world.queries.log(user_id, ActivityFilter(), limit=3, offset=0)
    assert page.total == 6
    assert [e.created_at for e in page.entries] == [T0 + timedelta(minutes=m) for m in (2880, 1441, 1440)]
    assert page.entries[0].key_name == "web" and page.entries[1].key_name == "batch"
    assert page.entries[0].tokens_per_second == 150.0 and page.entries[2].tokens_per_second is None
    rest = await world.queries.log(user_id, ActivityFilter(), limit=3, offset=3)
    assert len(rest.entries) == 3 and rest.entries[-1].created_at == T0 - timedelta(days=10)
    failed = await world.queries.log(user_id, ActivityFilter(status="failed"), limit=10, offset=0)
    assert [e.model for e in failed.entries] == ["m2"] and failed.total == 1
    window = ActivityFilter(since=T0, until=T0 + timedelta(days=1), provider="p1", model="m1")
    assert [e.input_tokens for e in (await world.queries.log(user_id, window, limit=10, offset=0)).entries] == [10]


async def test_the_sums_are_exact_per_group(world: World) -> None:
    user_id, web, batch = await seeded(world)
    since, until = T0 - timedelta(hours=1), T0 + timedelta(days=3)
    [total] = await world.queries.usage(user_id, since=since, until=until, by="all")
    assert (total.requests, total.completed, total.failed) == (5, 4, 1)
    assert (total.input_tokens, total.output_tokens, total.processing_time_ms) == (123, 327, 3350)
    assert total.cost_usd == Decimal("1.6833433334")
    by_model = {g.key: (g.requests, g.cost_usd) for g in await world.queries.usage(
        user_id, since=since, until=until, by="model")}
    assert by_model == {"m1": (3, Decimal("1.3500100001")), "m2": (2, Decimal("0.3333333333"))}
    by_key = {g.key: (g.label, g.requests) for g in await world.queries.usage(user_id, since=since, until=until,
                                                                               by="key")}
    assert by_key == {str(web): ("web", 3), str(batch): ("batch", 2)}
    by_day = {g.key: g.requests for g in await world.queries.usage(user_id, since=since, until=until, by="day")}
    assert by_day == {"2026-03-10": 2, "2026-03-11": 2, "2026-03-12": 1}
    assert await world.queries.usage(user_id + 10_000_000, since=since, until=until, by="all") == []
