"""The throughput figures behave the same over the memory request log and SQL (SQLite, PostgreSQL):
integer model ids assigned to catalogued models, completed rows of that provider only, the window.

The PostgreSQL database is shared by the session, so every test uses models and providers of its own
and reads only its own pairs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from adapters.memory.chat_history import MemoryThroughputStore
from adapters.memory.requests import MemoryRequestLogStore
from adapters.postgres.engine import create_engine
from adapters.postgres.requests import PostgresRequestLogStore
from adapters.postgres.tables import models
from adapters.postgres.throughput import PostgresThroughputStore
from domain.requests import RequestRecord
from ports.chat_history import ThroughputStore
from ports.requests import RequestLogStore

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@dataclass
class Log:
    requests: RequestLogStore
    figures: ThroughputStore
    names: dict[str, str]
    engine: object | None = None

    async def catalogue(self, model: str, name: str) -> None:
        self.names[model] = name
        if self.engine is not None:
            async with self.engine.begin() as conn:  # type: ignore[attr-defined]
                await conn.execute(insert(models).values(id=model, name=name, context_length=1, max_output_tokens=1,
                                                         created_at=T0, updated_at=T0))


@pytest.fixture
async def log(database_url: str | None) -> AsyncIterator[Log]:
    if database_url is None:
        names: dict[str, str] = {}
        requests = MemoryRequestLogStore()
        yield Log(requests, MemoryThroughputStore(requests.records, names), names)
        return
    engine = create_engine(database_url)
    try:
        yield Log(PostgresRequestLogStore(engine), PostgresThroughputStore(engine), {}, engine)
    finally:
        await engine.dispose()


def row(model: str, provider: str | None, *, tokens: tuple[int, int] = (100, 100), ms: int = 1000,
        status: str = "completed", at: datetime = T0) -> RequestRecord:
    return RequestRecord(request_id=uuid.uuid4().hex, created_at=at, model=model, status=status, provider=provider,
                         input_tokens=tokens[0], output_tokens=tokens[1], processing_time_ms=ms)


async def test_figures_of_one_pair_count_completed_rows_of_that_provider_in_the_window(log: Log) -> None:
    tag = uuid.uuid4().hex[:8]
    model, p1, p2 = f"t/{tag}", f"p1-{tag}", f"p2-{tag}"
    await log.catalogue(model, f"Model {tag}")
    await log.requests.add_many([
        row(model, p1, tokens=(150, 50), ms=1500), row(model, p1, tokens=(100, 100), ms=500),
        row(model, p1, status="failed", ms=9), row(model, p2, tokens=(1, 1), ms=1),
        row(model, p1, tokens=(5000, 0), ms=1, at=T0 - timedelta(days=8)),
        row(model, None, status="failed"), row(f"uncatalogued/{tag}", p1)])
    number = await log.figures.model_number(model)
    assert number is not None and await log.figures.model_number(f"uncatalogued/{tag}") is None
    week = await log.figures.throughput(number, p1, since=T0 - timedelta(days=7))
    assert week is not None
    assert (week.model, week.provider, week.requests, week.total_tokens, week.total_ms) == (
        f"Model {tag}", p1, 2, 400, 2000)
    assert week.tokens_per_second == 200.0
    ever = await log.figures.throughput(number, p1, since=None)
    assert ever is not None and (ever.requests, ever.total_tokens) == (3, 5400)
    assert await log.figures.throughput(number, f"none-{tag}", since=None) is None
    assert await log.figures.throughput(number + 10_000, p1, since=None) is None
    mine = {(p.model_id, p.provider): p.requests for p in await log.figures.usage_pairs() if p.model_id == number}
    assert mine == {(number, p1): 3, (number, p2): 1}


async def test_a_replayed_batch_keeps_one_row_and_the_same_number(log: Log) -> None:
    tag = uuid.uuid4().hex[:8]
    model, provider = f"r/{tag}", f"p-{tag}"
    await log.catalogue(model, "R")
    batch = [row(model, provider, ms=0)]
    await log.requests.add_many(batch)
    await log.requests.add_many(batch)
    number = await log.figures.model_number(model)
    assert number is not None
    figure = await log.figures.throughput(number, provider, since=None)
    assert figure is not None and figure.requests == 1
    assert figure.tokens_per_second is None  # no time measured: no sample (the seed divided by zero)
