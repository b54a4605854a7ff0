"""Input the database cannot hold is the caller's 422, not our 503 (found by schemathesis)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.postgres.failures import database_guard
from domain.errors import InvalidInput, ServiceUnavailable


@pytest.mark.parametrize(("sql", "value"), [
    ("select cast(:x as text)", "a\x00b"),          # PostgreSQL text holds no NUL
    ("select cast(:x as bigint)", 2**70),            # past BIGINT: refused by the driver's bind
    ("select cast(:x as numeric(5,2))", 10**9),      # past NUMERIC's precision: refused by the server
], ids=["nul", "bigint", "numeric"])
async def test_values_the_database_cannot_hold_are_invalid_input(postgres_url: str, sql: str, value: Any) -> None:
    engine = create_async_engine(postgres_url)
    try:
        with pytest.raises(InvalidInput):
            async with database_guard(), engine.connect() as conn:
                await conn.execute(text(sql), {"x": value})
    finally:
        await engine.dispose()


async def test_an_unreachable_database_is_still_unavailable() -> None:
    engine = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none", connect_args={"timeout": 2})
    try:
        with pytest.raises(ServiceUnavailable):
            async with database_guard(), engine.connect() as conn:
                await conn.execute(text("select 1"))
    finally:
        await engine.dispose()
