"""`gatewayz ledger verify` sees rows that are missing, not only rows that are wrong: after real
inference traffic through a `gatewayz serve` process on PostgreSQL and Redis, deleting a usage row
(or a request row) by hand makes it exit 1 naming the request; putting the row back makes it clean."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.postgres.tables import chat_completion_requests as ccr
from adapters.postgres.tables import credit_transactions as ct
from tests.e2e.stack import ROOT, Stack, cli
from tests.integration.inference_kit import MESSAGES
from tests.services import unique_name


def verify(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gatewayz", "ledger", "verify"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


async def both_rows(database_url: str, request_ids: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each request's usage ledger row and request-log row (written behind the answer: polled)."""
    engine = create_async_engine(database_url)
    try:
        deadline = time.monotonic() + 20
        while True:
            async with engine.connect() as conn:
                usage = {r["request_id"]: dict(r) for r in (await conn.execute(select(ct).where(
                    ct.c.request_id.in_(request_ids), ct.c.transaction_type == "api_usage"))).mappings()}
                logged = {r["request_id"]: dict(r) for r in (await conn.execute(select(ccr).where(
                    ccr.c.request_id.in_(request_ids)))).mappings()}
            if len(usage) == len(logged) == len(request_ids) or time.monotonic() > deadline:
                return usage, logged
            await asyncio.sleep(0.1)
    finally:
        await engine.dispose()


async def remove(database_url: str, table: Any, request_id: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            assert (await conn.execute(delete(table).where(table.c.request_id == request_id))).rowcount == 1
    finally:
        await engine.dispose()


async def restore(database_url: str, table: Any, row: dict[str, Any]) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(table).values(**row))
    finally:
        await engine.dispose()


def test_a_row_deleted_by_hand_is_reported_and_restoring_it_makes_the_ledger_clean(stack: Stack) -> None:
    env, database_url = stack.env, stack.env["DATABASE_URL"]
    user = cli(env, "users", "create", "--email", unique_name("gaps") + "@example.com", "--credits", "10")
    client = stack.openai(user["api_key"])
    request_ids = []
    for _ in range(3):
        raw = client.chat.completions.with_raw_response.create(
            model="acme/chat", messages=MESSAGES, max_tokens=20)  # type: ignore[arg-type]
        request_ids.append(raw.headers["x-gatewayz-request-id"])
    usage, logged = asyncio.run(both_rows(database_url, request_ids))
    assert set(usage) == set(logged) == set(request_ids), (usage.keys(), logged.keys())
    baseline = verify(env)
    assert baseline.returncode == 0, baseline.stdout + baseline.stderr

    uncharged, unlogged = request_ids[0], request_ids[1]
    asyncio.run(remove(database_url, ct, uncharged))
    asyncio.run(remove(database_url, ccr, unlogged))
    try:
        broken = verify(env)
        assert broken.returncode == 1, broken.stdout + broken.stderr
        out = broken.stdout
        assert "LEDGER MISMATCH" in out
        assert f"completed request {uncharged} (cost " in out and "has no usage ledger row" in out
        assert f"usage row of request {unlogged} (amount " in out and "has no request row" in out
        # The hand-deleted charge also breaks the user's balance chain; the other user's rows are intact.
        assert f"user {user['user_id']}: balance_mismatch" in out
        assert request_ids[2] not in out
    finally:
        asyncio.run(restore(database_url, ct, usage[uncharged]))
        asyncio.run(restore(database_url, ccr, logged[unlogged]))
    healed = verify(env)
    assert healed.returncode == 0, healed.stdout + healed.stderr
