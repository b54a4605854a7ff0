"""Shared fixtures: real PostgreSQL and Redis per test session, apps and clients."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from gatewayz.migrations import migrate
from tests.services import Throwaway, start_postgres, start_redis, unavailable, unique_name

KEY_SECRET = "test-key-secret"


@pytest.fixture(scope="session")
def throwaway() -> Iterator[Throwaway]:
    t = Throwaway()
    yield t
    t.close()


@pytest.fixture(scope="session")
def postgres_server_url(throwaway: Throwaway) -> str:
    url = os.environ.get("TEST_DATABASE_URL") or start_postgres(throwaway)
    if not url:
        unavailable("no TEST_DATABASE_URL and no initdb/pg_ctl usable (as non-root) to start PostgreSQL")
    return url  # type: ignore[return-value]


@pytest.fixture(scope="session")
async def postgres_url(postgres_server_url: str) -> AsyncIterator[str]:
    """A fresh database for this session, brought to head by the real migrations."""
    name = unique_name("gatewayz_test")
    admin = create_async_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        await admin.dispose()
        unavailable(f"PostgreSQL at {postgres_server_url} refused: {exc}")
    base = postgres_server_url.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    await asyncio.to_thread(migrate, url)
    yield url
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


@pytest.fixture(scope="session")
async def redis_url(throwaway: Throwaway) -> AsyncIterator[str]:
    url = os.environ.get("TEST_REDIS_URL") or start_redis(throwaway)
    if not url:
        unavailable("no TEST_REDIS_URL and no redis-server on PATH")
    client = aioredis.Redis.from_url(url)  # type: ignore[arg-type]
    try:
        await client.ping()
    except Exception as exc:
        unavailable(f"Redis at {url} did not answer: {exc}")
    finally:
        await client.aclose()
    yield url  # type: ignore[misc]


@pytest.fixture
def redis_prefix() -> str:
    """Per-test key prefix so tests never see each other's keys."""
    return unique_name("gwtest") + ":"


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path}/gatewayz.db"
    await asyncio.to_thread(migrate, url)
    return url


def settings_env(**overrides: Any) -> dict[str, str]:
    env = {"GATEWAYZ_KEY_SECRET": KEY_SECRET, "LOG_LEVEL": "WARNING", "LOG_FORMAT": "console"}
    env.update({k: str(v) for k, v in overrides.items() if v is not None})
    return env
