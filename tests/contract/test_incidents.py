"""IncidentRepository over memory, SQLite and PostgreSQL; HeldIncidents and LeaderLock over memory
and Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlalchemy import delete

from adapters.memory.clock import FixedClock
from adapters.memory.incidents import MemoryHeldIncidents, MemoryIncidentRepository
from adapters.memory.leader import MemoryLeaderLock
from adapters.postgres.engine import create_engine
from adapters.postgres.incidents import PostgresIncidentRepository
from adapters.postgres.tables import downtime_incidents
from adapters.redis.client import create_redis
from adapters.redis.incidents import RedisHeldIncidents
from adapters.redis.leader import RedisLeaderLock
from domain.incidents import CheckName, Incident, IncidentFilter, IncidentStatus, Severity
from ports.incidents import HeldIncidents, IncidentRepository
from ports.leader import LeaderLock

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def incident(check: CheckName = CheckName.MANUAL, *, at: datetime = T0, **fields: Any) -> Incident:
    return Incident(id=str(uuid.uuid4()), started_at=at, detected_at=at + timedelta(seconds=60), check=check,
                    **fields)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def repo(request: pytest.FixtureRequest) -> AsyncIterator[IncidentRepository]:
    if request.param == "memory":
        yield MemoryIncidentRepository()
        return
    engine = create_engine(request.getfixturevalue(f"{request.param}_url"))
    async with engine.begin() as conn:  # the PostgreSQL database is shared by the session
        await conn.execute(delete(downtime_incidents))
    yield PostgresIncidentRepository(engine)
    await engine.dispose()


async def test_an_incident_reads_back_with_every_column(repo: IncidentRepository) -> None:
    new = incident(CheckName.DATABASE, severity=Severity.CRITICAL, environment="production",
                   health_endpoint="/health/ready", error_message="database: timeout", http_status_code=503,
                   response_body='{"status": "unavailable"}', server_info={"hostname": "h", "pid": 7},
                   metrics_snapshot={"breaker_states": {"openai": "open"}}, capture_due_at=T0)
    assert await repo.open(new) == new
    assert await repo.get(new.id) == new
    assert await repo.get(str(uuid.uuid4())) is None


async def test_never_two_ongoing_incidents_of_one_check(repo: IncidentRepository) -> None:
    first = await repo.open(incident(CheckName.REDIS))
    assert first is not None
    assert await repo.open(incident(CheckName.REDIS)) is None
    assert await repo.open(incident(CheckName.DATABASE)) is not None  # another check
    assert await repo.open(incident(CheckName.MANUAL)) is not None
    assert await repo.open(incident(CheckName.MANUAL)) is not None  # manual ones are not deduplicated
    resolved = await repo.resolve(first.id, ended_at=T0 + timedelta(minutes=5), resolved_by="system:auto",
                                  notes=None, capture_due_at=None)
    assert resolved is not None
    assert await repo.open(incident(CheckName.REDIS)) is not None  # the next outage opens anew


async def test_search_filters_orders_newest_first_and_counts_cover_every_match(repo: IncidentRepository) -> None:
    made = [await repo.open(incident(at=T0 + timedelta(hours=i), severity=sev, environment=env))
            for i, (sev, env) in enumerate([(Severity.HIGH, "production"), (Severity.LOW, "staging"),
                                            (Severity.HIGH, "production"), (Severity.CRITICAL, "production")])]
    assert all(made)
    await repo.resolve(made[0].id, ended_at=T0 + timedelta(hours=1), resolved_by="x", notes=None,  # type: ignore[union-attr]
                       capture_due_at=None)
    everything = await repo.search(IncidentFilter(), 2)
    assert [i.started_at for i in everything] == [T0 + timedelta(hours=3), T0 + timedelta(hours=2)]
    counts = await repo.counts(IncidentFilter())
    assert (counts.total, counts.ongoing, counts.resolved) == (4, 3, 1)
    high = await repo.search(IncidentFilter(severity=Severity.HIGH), 10)
    assert [i.id for i in high] == [made[2].id, made[0].id]  # type: ignore[union-attr]
    prod_ongoing = IncidentFilter(status=IncidentStatus.ONGOING, environment="production")
    assert len(await repo.search(prod_ongoing, 10)) == 2
    assert (await repo.counts(prod_ongoing)).total == 2
    assert await repo.search(IncidentFilter(environment="Production"), 10) == []  # equality, case-sensitive


async def test_resolve_is_conditional_sets_the_duration_and_keeps_notes_unless_given(repo: IncidentRepository) -> None:
    new = await repo.open(incident(notes="first look"))
    assert new is not None
    end = T0 + timedelta(seconds=754, microseconds=900_000)
    resolved = await repo.resolve(new.id, ended_at=end, resolved_by="admin:a@b.co", notes=None,
                                  capture_due_at=end + timedelta(minutes=5))
    assert resolved is not None
    assert (resolved.status, resolved.ended_at, resolved.duration_seconds, resolved.resolved_by, resolved.notes) == (
        IncidentStatus.RESOLVED, end, 754, "admin:a@b.co", "first look")
    assert await repo.get(new.id) == resolved
    assert await repo.resolve(new.id, ended_at=end, resolved_by="again", notes="x", capture_due_at=None) is None
    other = await repo.open(incident())
    assert other is not None
    with_notes = await repo.resolve(other.id, ended_at=end, resolved_by="y", notes="fixed", capture_due_at=None)
    assert with_notes is not None and with_notes.notes == "fixed"
    assert await repo.resolve(str(uuid.uuid4()), ended_at=end, resolved_by="y", notes=None, capture_due_at=None) is None


async def test_concurrent_resolves_resolve_once(repo: IncidentRepository) -> None:
    new = await repo.open(incident())
    assert new is not None
    results = await asyncio.gather(*(repo.resolve(new.id, ended_at=T0 + timedelta(minutes=i), resolved_by=f"r{i}",
                                                  notes=None, capture_due_at=None) for i in range(10)))
    assert sum(1 for r in results if r is not None) == 1


async def test_ongoing_lists_only_ongoing_newest_first_and_by_check(repo: IncidentRepository) -> None:
    a = await repo.open(incident(CheckName.DATABASE, at=T0))
    b = await repo.open(incident(CheckName.REDIS, at=T0 + timedelta(minutes=1)))
    investigating = await repo.open(incident(at=T0 + timedelta(minutes=2), status=IncidentStatus.INVESTIGATING))
    assert a and b and investigating
    assert [i.id for i in await repo.ongoing()] == [b.id, a.id]
    assert [i.id for i in await repo.ongoing(CheckName.DATABASE)] == [a.id]


async def test_statistics_group_the_window_by_severity_and_status(repo: IncidentRepository) -> None:
    inside = [await repo.open(incident(at=T0 - timedelta(days=d), severity=s))
              for d, s in [(1, Severity.HIGH), (2, Severity.HIGH), (3, Severity.LOW)]]
    await repo.open(incident(at=T0 - timedelta(days=40), severity=Severity.CRITICAL))  # outside the window
    for i, minutes in zip(inside[:2], (10, 5), strict=True):
        assert i is not None
        await repo.resolve(i.id, ended_at=i.started_at + timedelta(minutes=minutes), resolved_by="x", notes=None,
                           capture_due_at=None)
    rows = {(r.severity, r.status): (r.count, r.downtime_seconds)
            for r in await repo.statistics(T0 - timedelta(days=30), T0)}
    assert rows == {("high", "resolved"): (2, 900), ("low", "ongoing"): (1, 0)}


async def test_captured_logs_replace_the_previous_capture(repo: IncidentRepository) -> None:
    new = await repo.open(incident())
    assert new is not None
    logs = [{"timestamp": "2026-05-01T12:00:00+00:00", "level": "ERROR", "logger": "a", "message": "m",
             "labels": {"app": "x"}}]
    assert await repo.store_logs(new.id, logs * 3)
    assert await repo.store_logs(new.id, logs)
    stored = await repo.get(new.id)
    assert stored is not None and stored.logs_captured == logs and stored.log_count == 1
    assert not await repo.store_logs(str(uuid.uuid4()), logs)


async def test_due_captures_and_their_completion(repo: IncidentRepository) -> None:
    due = await repo.open(incident(capture_due_at=T0))
    later = await repo.open(incident(capture_due_at=T0 + timedelta(hours=1)))
    await repo.open(incident())
    assert due and later
    assert [i.id for i in await repo.due_captures(T0)] == [due.id]
    await repo.capture_done(due.id, T0 - timedelta(seconds=1))  # a different schedule: kept
    assert [i.id for i in await repo.due_captures(T0)] == [due.id]
    await repo.capture_done(due.id, T0)
    assert await repo.due_captures(T0) == []
    assert [i.id for i in await repo.due_captures(T0 + timedelta(hours=2))] == [later.id]


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = create_redis(redis_url)
    yield client
    await client.aclose()


@pytest.fixture(params=["memory", "redis"])
def held(request: pytest.FixtureRequest) -> HeldIncidents:
    if request.param == "memory":
        return MemoryHeldIncidents()
    return RedisHeldIncidents(request.getfixturevalue("redis_client"), request.getfixturevalue("redis_prefix"))


async def test_held_incidents_are_kept_per_check_until_released(held: HeldIncidents) -> None:
    db = incident(CheckName.DATABASE, severity=Severity.CRITICAL, server_info={"pid": 1})
    await held.hold(db)
    await held.hold(incident(CheckName.REDIS))
    resolved = Incident(**{**{f: getattr(db, f) for f in db.__struct_fields__}, "status": IncidentStatus.RESOLVED})
    await held.hold(resolved)  # the same check: replaced
    by_check = {i.check: i for i in await held.held()}
    assert set(by_check) == {CheckName.DATABASE, CheckName.REDIS}
    assert by_check[CheckName.DATABASE] == resolved
    await held.release(CheckName.DATABASE)
    assert [i.check for i in await held.held()] == [CheckName.REDIS]


@pytest.fixture(params=["memory", "redis"])
def locks(request: pytest.FixtureRequest) -> tuple[LeaderLock, LeaderLock, FixedClock]:
    clock = FixedClock()
    if request.param == "memory":
        lock = MemoryLeaderLock(clock)
        return lock, lock, clock
    client, prefix = request.getfixturevalue("redis_client"), request.getfixturevalue("redis_prefix")
    return RedisLeaderLock(client, prefix), RedisLeaderLock(client, prefix), clock


Locks = tuple[LeaderLock, LeaderLock, FixedClock]


async def test_one_owner_leads_renews_and_hands_over_on_release(locks: Locks) -> None:
    a, b, _ = locks
    assert await a.acquire("a", 15)
    assert not await b.acquire("b", 15)
    assert await a.acquire("a", 15)  # renewal
    await b.release("b")  # not the holder: nothing happens
    assert not await b.acquire("b", 15)
    await a.release("a")
    assert await b.acquire("b", 15)
    assert not await a.acquire("a", 15)


async def test_an_expired_lock_is_taken_over(locks: Locks) -> None:
    a, b, clock = locks
    assert await a.acquire("a", 0.2)
    clock.advance(0.3)
    await asyncio.sleep(0.3)  # Redis expires in real time
    assert await b.acquire("b", 15)
    assert not await a.acquire("a", 15)  # the old holder does not get it back


async def test_the_redis_lock_lives_at_the_documented_key(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    lock = RedisLeaderLock(redis_client, redis_prefix)
    assert lock.key == f"{redis_prefix}monitor:leader"
    assert await lock.acquire("me", 15)
    assert await redis_client.get(lock.key) == b"me"
    assert 14_000 < await redis_client.pttl(lock.key) <= 15_000
    assert RedisLeaderLock(redis_client, "gatewayz:").key == "gatewayz:monitor:leader"
