"""Shared pieces of the accounts suites: both deployments, unique identities, raw database reads."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from adapters.postgres.engine import create_engine

# Registration and login limits high enough for suites that create many accounts from one address;
# the limit tests set their own.
RELAXED = {"AUTH_REGISTER_LIMIT": "1000/3600", "AUTH_LOGIN_LIMIT": "1000/900",
           "AUTH_PASSWORD_RESET_LIMIT": "1000/3600"}


def deployment(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "sqlite":
        return {"database_url": request.getfixturevalue("sqlite_url")}
    return {"database_url": request.getfixturevalue("postgres_url"), "REDIS_URL": request.getfixturevalue("redis_url"),
            "REDIS_PREFIX": request.getfixturevalue("redis_prefix")}


def tag() -> str:
    return uuid.uuid4().hex[:10]


def identity() -> tuple[str, str]:
    """A fresh (username, email)."""
    t = tag()
    return f"user_{t}", f"user-{t}@example.com"


async def rows(database_url: str, sql: str, **params: Any) -> list[dict[str, Any]]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(text(sql), params)).mappings()]
    finally:
        await engine.dispose()


def as_time(value: Any) -> datetime:
    """A timestamp column read by raw SQL: a datetime on PostgreSQL, ISO text on SQLite."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
