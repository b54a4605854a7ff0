"""Shared fixtures: real PostgreSQL and Redis per test session, apps and clients."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis.asyncio as aioredis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from gatewayz.migrations import migrate
from tests.services import FOUND, Throwaway, find_postgres, find_redis, unavailable, unique_name

KEY_SECRET = "test-key-secret"
T = TypeVar("T")


@pytest.fixture(scope="session")
def throwaway() -> Iterator[Throwaway]:
    t = Throwaway()
    yield t
    t.close()


@pytest.fixture(scope="session")
def postgres_server_url(throwaway: Throwaway) -> str:
    """TEST_DATABASE_URL, else the default local server, else a throwaway one (tests/services.py)."""
    url, why = find_postgres(throwaway)
    if not url:
        unavailable(f"no PostgreSQL: {why}")
    return url  # type: ignore[return-value]


def in_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run blocking or asyncio.run-based setup off the event loop's thread, from sync fixtures
    (sync fixtures can then be requested from anywhere, async fixtures included)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


async def _admin_sql(server_url: str, statement: str) -> None:
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await admin.dispose()


@pytest.fixture(scope="session")
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh database for this session, brought to head by the real migrations."""
    name = unique_name("gatewayz_test")
    try:
        in_thread(asyncio.run, _admin_sql(postgres_server_url, f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        unavailable(f"PostgreSQL at {postgres_server_url} refused: {exc}")
    url = f"{postgres_server_url.rsplit('/', 1)[0]}/{name}"
    in_thread(migrate, url)
    yield url
    in_thread(asyncio.run, _admin_sql(postgres_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _ping(url: str) -> None:
    client = aioredis.Redis.from_url(url)
    try:
        await client.ping()
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
def redis_url(throwaway: Throwaway) -> str:
    """TEST_REDIS_URL, else the default local server, else a throwaway one (tests/services.py)."""
    url, why = find_redis(throwaway)
    if not url:
        unavailable(f"no Redis: {why}")
    try:
        in_thread(asyncio.run, _ping(url))  # type: ignore[arg-type]
    except Exception as exc:
        unavailable(f"Redis at {url} did not answer: {exc}")
    return url  # type: ignore[return-value]


@pytest.fixture
def redis_prefix() -> str:
    """Per-test key prefix so tests never see each other's keys."""
    return unique_name("gwtest") + ":"


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file brought to head by the real migrations, once per session."""
    path = tmp_path_factory.mktemp("sqlite-template") / "gatewayz.db"
    in_thread(migrate, f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, migrated_sqlite: Path) -> str:
    """A fresh migrated SQLite database per test: a copy of the session's (migrating each costs ~0.1 s)."""
    target = tmp_path / "gatewayz.db"
    shutil.copyfile(migrated_sqlite, target)
    return f"sqlite+aiosqlite:///{target}"


def settings_env(**overrides: Any) -> dict[str, str]:
    env = {"GATEWAYZ_KEY_SECRET": KEY_SECRET, "LOG_LEVEL": "WARNING", "LOG_FORMAT": "console",
           # cheap argon2id parameters: tests hash many passwords
           "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "64", "ARGON2_PARALLELISM": "1"}
    env.update({k: str(v) for k, v in overrides.items() if v is not None})
    if env.get("REDIS_URL") and "REDIS_PREFIX" not in env:  # the Redis may be shared: never the default prefix
        env["REDIS_PREFIX"] = unique_name("gwtest") + ":"
    return env


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say which servers the run used, so a run on shared local servers is never a surprise."""
    for name, where in FOUND.items():
        terminalreporter.write_line(f"{name}: {where}")
