"""Migration 0013 on SQLite and PostgreSQL: chat_completion_requests gains a nullable JSON `metadata`
(existing rows keep NULL), and the downgrade drops it and keeps the rows."""

from __future__ import annotations

import asyncio

from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from alembic import command
from gatewayz.migrations import alembic_config
from tests.conftest import in_thread
from tests.integration.test_chat_history_migration import NOW, fresh_url, sql

__all__ = ["fresh_url"]  # the fixture, shared


async def columns(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            found = await conn.run_sync(lambda c: inspect(c).get_columns("chat_completion_requests"))
            return {c["name"] for c in found}
    finally:
        await engine.dispose()


def test_the_upgrade_adds_a_null_metadata_column_and_the_downgrade_drops_it(fresh_url: str) -> None:
    config = alembic_config(fresh_url)
    before = ScriptDirectory.from_config(config).get_revision("0013_response_cache").down_revision
    assert isinstance(before, str)
    in_thread(command.upgrade, config, before)
    in_thread(asyncio.run, sql(fresh_url, "INSERT INTO chat_completion_requests (request_id, model, status, "
                                          f"created_at) VALUES ('old', 'a/one', 'completed', '{NOW}')"))
    in_thread(command.upgrade, config, "0013_response_cache")
    assert "metadata" in in_thread(asyncio.run, columns(fresh_url))
    in_thread(asyncio.run, sql(fresh_url, "INSERT INTO chat_completion_requests (request_id, model, status, "
                                          f"created_at, metadata) VALUES ('new', 'a/one', 'completed', '{NOW}', "
                                          "'{\"butter_cache_hit\": true}')"))
    [rows] = in_thread(asyncio.run, sql(fresh_url, "SELECT request_id, metadata FROM chat_completion_requests "
                                                   "ORDER BY request_id"))
    assert rows[1] == ("old", None) and rows[0][0] == "new" and rows[0][1] is not None
    in_thread(command.downgrade, config, before)
    assert "metadata" not in in_thread(asyncio.run, columns(fresh_url))
    [[(count,)]] = in_thread(asyncio.run, sql(fresh_url, "SELECT count(*) FROM chat_completion_requests"))
    assert count == 2
