"""Migration 0010 on a database that already holds accounts: usernames that collide case-insensitively
are made unique, every user gets a referral code, and the migration goes down and up again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.postgres.engine import create_engine
from alembic import command
from gatewayz.migrations import alembic_config
from tests.conftest import _admin_sql
from tests.services import unique_name

BEFORE = "0009_chat_history"


async def _sql(url: str, *statements: str) -> list[list[dict[str, object]]]:
    engine = create_engine(url)
    out = []
    try:
        async with engine.begin() as conn:
            for statement in statements:
                result = await conn.execute(text(statement))
                out.append([dict(r) for r in result.mappings()] if result.returns_rows else [])
    finally:
        await engine.dispose()
    return out


def _migrate(url: str, revision: str, *, down: bool = False) -> None:
    (command.downgrade if down else command.upgrade)(alembic_config(url), revision)


async def _exercise(url: str) -> None:
    await asyncio.to_thread(_migrate, url, BEFORE)
    await _sql(url, *(f"INSERT INTO users (username, email, role, subscription_allowance, purchased_credits, "
                      f"is_active, created_at, updated_at) VALUES ('{name}', '{email}', 'user', '0', '0', true, "
                      f"'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                      for name, email in (("ada", "ada@a.example"), ("Ada", "ada@b.example"), ("bob", "b@c.example"))))
    await asyncio.to_thread(_migrate, url, "head")
    [rows] = await _sql(url, "SELECT id, username, referral_code, subscription_status, tier FROM users ORDER BY id")
    assert [r["username"] for r in rows] == ["ada", f"Ada_{rows[1]['id']}", "bob"]
    codes = [r["referral_code"] for r in rows]
    assert all(isinstance(c, str) and len(c) == 8 for c in codes) and len(set(codes)) == 3
    assert {(r["subscription_status"], r["tier"]) for r in rows} == {("active", "basic")}
    with pytest.raises(Exception, match=r"(?i)unique"):
        await _sql(url, "INSERT INTO users (username, email, role, subscription_allowance, purchased_credits, "
                        "is_active, created_at, updated_at) VALUES ('BOB', 'other@c.example', 'user', '0', '0', true, "
                        "'2026-01-01 00:00:00', '2026-01-01 00:00:00')")
    await asyncio.to_thread(_migrate, url, BEFORE, down=True)
    await asyncio.to_thread(_migrate, url, "head")
    [again] = await _sql(url, "SELECT count(*) AS n FROM users")
    assert again[0]["n"] == 3


async def test_on_sqlite(tmp_path: Path) -> None:
    await _exercise(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")


async def test_on_postgres(postgres_server_url: str) -> None:
    name = unique_name("gatewayz_mig")
    await _admin_sql(postgres_server_url, f'CREATE DATABASE "{name}"')
    try:
        await _exercise(f"{postgres_server_url.rsplit('/', 1)[0]}/{name}")
    finally:
        await _admin_sql(postgres_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
