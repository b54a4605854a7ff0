"""Fixtures of the admin-surface tests (issue 14): a fresh database per test on SQLite and PostgreSQL
(PostgreSQL's cloned from a migrated template, a fraction of a second)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from gatewayz.migrations import migrate
from tests.conftest import _admin_sql, in_thread
from tests.harness import Running, running_app
from tests.services import unique_name


@pytest.fixture(scope="session")
def admin_template(postgres_server_url: str) -> Iterator[tuple[str, str]]:
    name = unique_name("gatewayz_admin_tpl")
    in_thread(asyncio.run, _admin_sql(postgres_server_url, f'CREATE DATABASE "{name}"'))
    base = postgres_server_url.rsplit("/", 1)[0]
    in_thread(migrate, f"{base}/{name}")
    yield postgres_server_url, name
    in_thread(asyncio.run, _admin_sql(postgres_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def fresh_postgres(template: tuple[str, str]) -> Iterator[str]:
    server, name = template
    clone = unique_name("gatewayz_admin")
    in_thread(asyncio.run, _admin_sql(server, f'CREATE DATABASE "{clone}" TEMPLATE "{name}"'))
    yield f"{server.rsplit('/', 1)[0]}/{clone}"
    in_thread(asyncio.run, _admin_sql(server, f'DROP DATABASE IF EXISTS "{clone}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_url")
    else:
        yield from fresh_postgres(request.getfixturevalue("admin_template"))


ADMIN_API_KEY = "operator-key-0123456789"


@pytest.fixture
def deployment_env(request: pytest.FixtureRequest, database_url: str) -> dict[str, str]:
    """SQLite alone (in-process caches), or PostgreSQL with Redis under this test's prefix."""
    env = {"ADMIN_API_KEY": ADMIN_API_KEY}
    if database_url.startswith("postgresql"):
        env |= {"REDIS_URL": request.getfixturevalue("redis_url"),
                "REDIS_PREFIX": request.getfixturevalue("redis_prefix")}
    return env


@pytest.fixture
async def app(database_url: str, deployment_env: dict[str, str]) -> AsyncIterator[Running]:
    async with running_app(database_url, **deployment_env) as r:
        yield r


