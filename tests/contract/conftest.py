"""Every port's suite runs over each of its adapters: memory, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import msgspec
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory.accounts import MemoryKeyDirectory
from adapters.memory.key_usage import MemoryKeyUsageStore
from adapters.memory.requests import MemoryRequestLogStore
from adapters.memory.store import MemoryStore
from adapters.memory.uow import MemoryUnitOfWorkFactory
from adapters.postgres.accounts import PostgresKeyDirectory
from adapters.postgres.engine import create_engine
from adapters.postgres.key_usage import PostgresKeyUsageStore
from adapters.postgres.requests import PostgresRequestLogStore
from adapters.postgres.tables import users
from adapters.postgres.uow import PostgresUnitOfWorkFactory
from ports.accounts import KeyDirectory
from ports.key_usage import KeyUsageStore
from ports.requests import RequestLogStore
from ports.uow import UnitOfWorkFactory

BACKENDS = ["memory", "sqlite", "postgres"]


@dataclass
class Backend:
    """One adapter family behind the ports, plus the test-only hooks its suites need."""

    name: str
    uow: UnitOfWorkFactory
    directory: KeyDirectory
    deactivate_user: Callable[[int], Awaitable[None]]
    requests: RequestLogStore  # the request log the ledger's completeness check reads
    key_usage: KeyUsageStore


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None for the memory twin; else a migrated database (fresh per test for SQLite, per session for PG)."""
    if request.param == "memory":
        return None
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
async def backend(database_url: str | None) -> AsyncIterator[Backend]:
    if database_url is None:
        store = MemoryStore()

        async def deactivate_in_memory(user_id: int) -> None:
            store.users[user_id] = msgspec.structs.replace(store.users[user_id], is_active=False)

        yield Backend("memory", MemoryUnitOfWorkFactory(store), MemoryKeyDirectory(store), deactivate_in_memory,
                      MemoryRequestLogStore(store), MemoryKeyUsageStore(store))
        return
    engine: AsyncEngine = create_engine(database_url)

    async def deactivate_in_sql(user_id: int) -> None:
        async with engine.begin() as conn:
            await conn.execute(update(users).where(users.c.id == user_id).values(is_active=False))

    try:
        yield Backend(engine.dialect.name, PostgresUnitOfWorkFactory(engine), PostgresKeyDirectory(engine),
                      deactivate_in_sql, PostgresRequestLogStore(engine), PostgresKeyUsageStore(engine))
    finally:
        await engine.dispose()


@pytest.fixture
def uow_factory(backend: Backend) -> UnitOfWorkFactory:
    return backend.uow
