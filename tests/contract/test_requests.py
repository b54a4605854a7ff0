"""RequestLogStore contract over memory, SQLite and PostgreSQL; the write-behind over each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from adapters.cache.write_behind import WriteBehindRequestLog
from adapters.memory.requests import MemoryRequestLogStore
from adapters.postgres.engine import create_engine
from adapters.postgres.requests import PostgresRequestLogStore
from domain.requests import RequestRecord
from ports.requests import RequestLogStore

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[RequestLogStore]:
    if request.param == "memory":
        yield MemoryRequestLogStore()
        return
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    engine = create_engine(url)
    yield PostgresRequestLogStore(engine)
    await engine.dispose()


def record(request_id: str, **kw: object) -> RequestRecord:
    fields: dict[str, object] = {"request_id": request_id, "created_at": NOW, "model": "acme/chat-1",
                                 "status": "completed", "user_id": 1, "api_key_id": 2, "provider": "alpha",
                                 "input_tokens": 10, "output_tokens": 20, "processing_time_ms": 35}
    fields.update(kw)
    return RequestRecord(**fields)  # type: ignore[arg-type]


async def test_records_round_trip_field_for_field(store: RequestLogStore) -> None:
    original = record("rt-" + str(id(store)), time_to_first_token_ms=12, cost_usd=Decimal("0.0000123456"),
                      usage_estimated=True, error_message=None)
    await store.add_many([original])
    assert await store.get(original.request_id) == original


async def test_a_replayed_request_id_is_skipped_not_duplicated(store: RequestLogStore) -> None:
    rid = "dup-" + str(id(store))
    await store.add_many([record(rid, output_tokens=1)])
    await store.add_many([record(rid, output_tokens=999), record(rid + "-b")])
    first = await store.get(rid)
    assert first is not None and first.output_tokens == 1
    assert await store.get(rid + "-b") is not None


async def test_failed_requests_keep_their_error(store: RequestLogStore) -> None:
    rid = "fail-" + str(id(store))
    await store.add_many([record(rid, status="failed", provider=None, error_message="All providers failed")])
    got = await store.get(rid)
    assert got is not None and (got.status, got.provider, got.error_message) == ("failed", None,
                                                                                  "All providers failed")


async def test_write_behind_persists_on_its_interval_and_on_stop(store: RequestLogStore) -> None:
    log = WriteBehindRequestLog(store, interval_s=0.01)
    log.start()
    rid = "wb-" + str(id(store))
    await log.record(record(rid))
    assert await log.get(rid) is not None  # visible while buffered
    await log.record(record(rid + "-2"))
    await log.stop()
    assert await store.get(rid) is not None and await store.get(rid + "-2") is not None
