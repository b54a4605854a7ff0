"""ErrorPatternStore and FixStore over memory, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from sqlalchemy import delete

from adapters.memory.error_monitoring import MemoryErrorPatternStore, MemoryFixStore
from adapters.postgres.engine import create_engine
from adapters.postgres.error_monitoring import PostgresErrorPatternStore, PostgresFixStore
from adapters.postgres.tables import error_monitor_state, error_patterns, generated_fixes
from domain.error_monitoring import (
    ErrorCategory,
    ErrorPattern,
    ErrorSeverity,
    FixStatus,
    GeneratedFix,
    MonitorState,
)
from ports.error_monitoring import ErrorPatternStore, FixStore

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
INITIAL = MonitorState(enabled=True, interval_s=300, auto_fix=True)


@dataclass
class Stores:
    patterns: ErrorPatternStore
    fixes: FixStore


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[Stores]:
    if request.param == "memory":
        yield Stores(MemoryErrorPatternStore(INITIAL), MemoryFixStore())
        return
    engine = create_engine(request.getfixturevalue(f"{request.param}_url"))
    async with engine.begin() as conn:
        for table in (error_patterns, error_monitor_state, generated_fixes):
            await conn.execute(delete(table))
    yield Stores(PostgresErrorPatternStore(engine, INITIAL), PostgresFixStore(engine))
    await engine.dispose()


def pattern(message: str = "socket timeout", *, at: int = 0, count: int = 1, error_type: str = "TimeoutError",
            category: ErrorCategory = ErrorCategory.TIMEOUT_ERROR, examples: list[str] | None = None) -> ErrorPattern:
    seen = T0 + timedelta(minutes=at)
    return ErrorPattern(key=f"{category}:{message[:50]}", error_type=error_type, message=message, category=category,
                        severity=ErrorSeverity.MEDIUM, file="adapters/x.py", line=3, function="f",
                        stack_trace="trace", first_seen=seen, last_seen=seen, count=count,
                        examples=examples or [message], fixable=True, suggested_fix="Increase timeout")


async def test_patterns_merge_counts_and_keep_the_five_most_recent_examples(stores: Stores) -> None:
    first = pattern(at=0, count=2, examples=["a1", "a0"])
    assert await stores.patterns.merge([first]) == [first]
    merged = None
    for i in range(2, 6):
        [merged] = await stores.patterns.merge([pattern(at=i, examples=[f"a{i}"])])
    assert merged is not None
    assert merged.count == 6 and merged.first_seen == T0 and merged.last_seen == T0 + timedelta(minutes=5)
    assert merged.examples == ["a5", "a4", "a3", "a2", "a1"]
    assert await stores.patterns.get(first.key) == merged
    assert await stores.patterns.get("nope") is None


async def test_pages_are_newest_first_and_matching_finds_keys_and_error_types(stores: Stores) -> None:
    a = pattern("alpha timeout", at=1, error_type="TimeoutError")
    b = pattern("beta", at=3, error_type="KeyError", category=ErrorCategory.INTERNAL_ERROR)
    c = pattern("gamma timeout", at=2, error_type="TimeoutError")
    await stores.patterns.merge([a, b, c])
    page, total = await stores.patterns.page(2, 0)
    assert [p.key for p in page] == [b.key, c.key] and total == 3
    assert [p.key for p in (await stores.patterns.page(2, 2))[0]] == [a.key]
    assert [p.key for p in await stores.patterns.matching(["TimeoutError"])] == [c.key, a.key]
    assert [p.key for p in await stores.patterns.matching([b.key, "nothing"])] == [b.key]
    assert await stores.patterns.matching([]) == []
    assert await stores.patterns.counts_by_category() == {"timeout_error": 2, "internal_error": 1}


async def test_the_monitor_state_starts_from_the_initial_one_and_persists(stores: Stores) -> None:
    assert await stores.patterns.state() == INITIAL
    await stores.patterns.set_desired(enabled=True, interval_s=120)
    await stores.patterns.record_scan(at=T0, cursor_ns=123, cursor_hashes=["h1"], occurrences=4)
    await stores.patterns.record_scan(at=T0 + timedelta(minutes=1), cursor_ns=456, cursor_hashes=["h2", "h3"],
                                      occurrences=2)
    state = await stores.patterns.state()
    assert (state.enabled, state.interval_s, state.auto_fix, state.last_scan, state.cursor_ns, state.cursor_hashes,
            state.errors_since_last_fix) == (True, 120, True, T0 + timedelta(minutes=1), 456, ["h2", "h3"], 6)
    await stores.patterns.set_desired(enabled=False)
    await stores.patterns.fix_generated()
    state = await stores.patterns.state()
    assert (state.enabled, state.interval_s, state.errors_since_last_fix) == (False, 120, 0)


async def test_concurrent_first_merges_of_one_key_count_every_occurrence(stores: Stores) -> None:
    await asyncio.gather(*(stores.patterns.merge([pattern(at=i)]) for i in range(5)))
    stored = await stores.patterns.get(pattern().key)
    assert stored is not None and stored.count == 5


def fix(at: int = 0, **fields: object) -> GeneratedFix:
    return GeneratedFix(id=str(uuid.uuid4()), error_pattern_id="timeout_error:x", error_message="x",
                        error_category="timeout_error", severity="medium",
                        generated_at=T0 + timedelta(minutes=at), **fields)  # type: ignore[arg-type]


async def test_fixes_are_saved_replaced_paged_and_counted(stores: Stores) -> None:
    first = await stores.fixes.save(fix(0))
    second = await stores.fixes.save(fix(10, code_changes={"adapters/x.py": "print(1)\n"},
                                         files_affected=["adapters/x.py"], model="m", input_tokens=5))
    assert await stores.fixes.get(second.id) == second
    updated = msgspec.structs.replace(first, status=FixStatus.TESTING, pr_number=7, pr_url="https://x/7",
                                      branch="gatewayz/fix-1")
    await stores.fixes.save(updated)
    assert await stores.fixes.get(first.id) == updated
    page, total = await stores.fixes.page(10, 0)
    assert [f.id for f in page] == [second.id, first.id] and total == 2
    assert [f.id for f in await stores.fixes.with_open_pull_requests()] == [first.id]
    assert await stores.fixes.count_since(T0 + timedelta(minutes=5)) == 1
    assert await stores.fixes.get(str(uuid.uuid4())) is None
