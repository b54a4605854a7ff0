"""A lost database is a 503 `Database unavailable` on chat history routes; the store's one retry layer
covers connection establishment only (nothing sent yet), so it can never write a row twice."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.postgres.chat_history import PostgresChatHistoryStore
from adapters.postgres.engine import create_engine
from adapters.postgres.tables import chat_sessions
from adapters.postgres.uow import PostgresUnitOfWorkFactory
from domain.accounts import NewUser
from domain.errors import ServiceUnavailable
from domain.services.chat_sessions import ListChatSessions
from tests.harness import bearer, running_app

NOW = datetime(2026, 3, 1, tzinfo=UTC)
DEAD_URL = "postgresql+asyncpg://postgres@127.0.0.1:1/none"


class FlakyEngine:
    """An engine whose first `failures` connection attempts are refused, as a restarting server's are."""

    def __init__(self, engine: AsyncEngine, failures: int) -> None:
        self._engine = engine
        self.failures = failures
        self.attempts = 0
        self.dialect = engine.dialect

    async def connect(self) -> Any:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise ConnectionRefusedError("connection refused")
        return await self._engine.connect()


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgres_url)
    yield engine
    await engine.dispose()


async def sessions_of(engine: AsyncEngine, user_id: int) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(chat_sessions)
                                       .where(chat_sessions.c.user_id == user_id))).scalar_one())


async def a_user(engine: AsyncEngine) -> int:
    async with PostgresUnitOfWorkFactory(engine)() as u:
        t = uuid.uuid4().hex[:10]
        user = await u.users.add(NewUser(email=f"lost-{t}@example.com", username=f"l_{t}"), now=NOW)
        await u.commit()
    return user.id


async def test_one_refused_connection_is_retried_and_writes_once(engine: AsyncEngine) -> None:
    user_id = await a_user(engine)
    flaky = FlakyEngine(engine, failures=1)
    store = PostgresChatHistoryStore(flaky)  # type: ignore[arg-type]
    session = await store.create_session(user_id, title="t", model="m", now=NOW)
    assert flaky.attempts == 2 and await sessions_of(engine, user_id) == 1
    assert session.user_id == user_id


async def test_two_refused_connections_are_a_503_and_write_nothing(engine: AsyncEngine) -> None:
    user_id = await a_user(engine)
    flaky = FlakyEngine(engine, failures=2)
    with pytest.raises(ServiceUnavailable) as lost:
        await PostgresChatHistoryStore(flaky).create_session(user_id, title="t", model="m", now=NOW)  # type: ignore[arg-type]
    assert lost.value.message == "Database unavailable" and flaky.attempts == 2
    assert await sessions_of(engine, user_id) == 0


async def test_a_lost_database_answers_503_database_unavailable(postgres_url: str) -> None:
    dead = create_async_engine(DEAD_URL, connect_args={"timeout": 2})
    try:
        async with running_app(postgres_url) as r:
            _, key = await r.user(f"lost-{uuid.uuid4().hex[:10]}@example.com")
            areas = r.app.state.areas
            areas["chat_history"] = dataclasses.replace(
                areas["chat_history"], list_chat_sessions=ListChatSessions(PostgresChatHistoryStore(dead)))
            resp = await r.client.get("/v1/chat/sessions", headers=bearer(key))
    finally:
        await dead.dispose()
    assert resp.status_code == 503
    assert resp.json()["detail"] == "Database unavailable"


