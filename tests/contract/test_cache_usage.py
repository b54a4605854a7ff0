"""The cache analytics' GROUP BY behaves the same over the memory request log and SQL (SQLite,
PostgreSQL): a user's completed rows in the window, grouped by model and provider, hits and savings
read from the seed's metadata keys. Every test uses a user id of its own (the PostgreSQL database is
shared by the session)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from adapters.memory.requests import MemoryRequestLogStore
from adapters.memory.response_cache import MemoryCacheUsageStore
from adapters.postgres.cache_usage import PostgresCacheUsageStore
from adapters.postgres.engine import create_engine
from adapters.postgres.requests import PostgresRequestLogStore
from domain.requests import RequestRecord
from domain.response_cache import MISS_METADATA, hit_metadata
from ports.requests import RequestLogStore
from ports.response_cache import CacheUsage, CacheUsageStore

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@dataclass
class Log:
    requests: RequestLogStore
    usage: CacheUsageStore
    engine: object | None = None

    async def user(self) -> int:
        """A user id of this test's own (request rows carry no foreign key to users)."""
        return uuid.uuid4().int % 1_000_000_000


@pytest.fixture
async def log(database_url: str | None) -> AsyncIterator[Log]:
    if database_url is None:
        requests = MemoryRequestLogStore()
        yield Log(requests, MemoryCacheUsageStore(requests.records))
        return
    engine = create_engine(database_url)
    try:
        yield Log(PostgresRequestLogStore(engine), PostgresCacheUsageStore(engine), engine)
    finally:
        await engine.dispose()


def row(user_id: int, model: str, *, hit: bool | None, cost: str = "0.01", status: str = "completed",
        at: datetime = T0, provider: str = "alpha") -> RequestRecord:
    metadata = None if hit is None else hit_metadata(Decimal(cost)) if hit else MISS_METADATA
    return RequestRecord(request_id=uuid.uuid4().hex, created_at=at, model=model, status=status, user_id=user_id,
                         provider=provider, cost_usd=Decimal(0) if hit else Decimal(cost), metadata=metadata)


async def test_completed_rows_of_the_user_in_the_window_are_grouped_with_hits_and_savings(log: Log) -> None:
    me, other = await log.user(), await log.user()
    await log.requests.add_many([
        row(me, "m/one", hit=True, cost="0.25"), row(me, "m/one", hit=True, cost="0.5"),
        row(me, "m/one", hit=False), row(me, "m/one", hit=None),
        row(me, "m/one", hit=True, cost="0.125", provider="beta"),
        row(me, "m/two", hit=True, status="failed"), row(me, "m/two", hit=True, at=T0 - timedelta(days=40)),
        row(other, "m/one", hit=True)])
    groups = await log.usage.cache_usage(me, T0 - timedelta(days=30))
    assert groups == [
        CacheUsage(model="m/one", provider="alpha", requests=4, hits=2, savings=Decimal("0.75")),
        CacheUsage(model="m/one", provider="beta", requests=1, hits=1, savings=Decimal("0.125"))]


async def test_a_user_without_rows_has_no_groups(log: Log) -> None:
    assert await log.usage.cache_usage(await log.user(), T0) == []
