"""Migration 0009 on SQLite and PostgreSQL: existing models get integer ids, existing request rows are
backfilled from their canonical model name, and the downgrade removes what the upgrade added."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from alembic import command
from gatewayz.migrations import alembic_config
from tests.conftest import _admin_sql, in_thread
from tests.services import unique_name

NOW = datetime(2026, 3, 1, tzinfo=UTC).isoformat(sep=" ").replace("+00:00", "")


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/m.db"
        return
    server = request.getfixturevalue("postgres_server_url")
    name = unique_name("gatewayz_mig")
    in_thread(asyncio.run, _admin_sql(server, f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server.rsplit('/', 1)[0]}/{name}"
    finally:
        in_thread(asyncio.run, _admin_sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def sql(url: str, *statements: str) -> list[list[tuple[object, ...]]]:
    """Run the statements in one transaction; each SELECT's rows, [] for the others."""
    engine = create_async_engine(url)
    results: list[list[tuple[object, ...]]] = []
    try:
        async with engine.begin() as conn:
            for statement in statements:
                result = await conn.execute(text(statement))
                results.append([tuple(r) for r in result.all()] if result.returns_rows else [])
    finally:
        await engine.dispose()
    return results


async def tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


def test_the_upgrade_numbers_models_backfills_request_rows_and_the_downgrade_undoes_it(fresh_url: str) -> None:
    config = alembic_config(fresh_url)
    in_thread(command.upgrade, config, "0008_settlement_journal")
    in_thread(asyncio.run, sql(
        fresh_url,
        f"INSERT INTO models (id, name, context_length, max_output_tokens, is_active, created_at, updated_at) "
        f"VALUES ('b/two', 'Two', 1, 1, true, '{NOW}', '{NOW}'), ('a/one', 'One', 1, 1, true, '{NOW}', '{NOW}')",
        f"INSERT INTO chat_completion_requests (request_id, model, provider, status, created_at) VALUES "
        f"('r1', 'a/one', 'p', 'completed', '{NOW}'), ('r2', 'b/two', 'p', 'completed', '{NOW}'), "
        f"('r3', 'gone/model', 'p', 'failed', '{NOW}')"))
    in_thread(command.upgrade, config, "0009_chat_history")
    numbers, rows = in_thread(asyncio.run, sql(
        fresh_url, "SELECT id, model_id FROM model_numbers ORDER BY id",
        "SELECT r.request_id, n.model_id FROM chat_completion_requests r "
        "LEFT JOIN model_numbers n ON n.id = r.model_id ORDER BY r.request_id"))
    assert [m for _, m in numbers] == ["a/one", "b/two"]
    assert rows == [("r1", "a/one"), ("r2", "b/two"), ("r3", None)]
    assert {"chat_sessions", "chat_messages", "message_feedback"} <= in_thread(asyncio.run, tables(fresh_url))
    in_thread(command.downgrade, config, "0008_settlement_journal")
    left = in_thread(asyncio.run, tables(fresh_url))
    assert not {"chat_sessions", "chat_messages", "message_feedback", "model_numbers"} & left
    [[(count,)]] = in_thread(asyncio.run, sql(fresh_url, "SELECT count(*) FROM chat_completion_requests"))
    assert count == 3
