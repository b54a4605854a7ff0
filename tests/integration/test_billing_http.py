"""Billing through HTTP on PostgreSQL (+Redis) and on SQLite: concurrent admission never overdraws,
charges are exact, failures are free, settlement is recorded on the request row."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import select

from adapters.catalog_file.loader import load_catalog_file
from adapters.postgres.tables import chat_completion_requests as ccr
from adapters.postgres.tables import credit_transactions as ct
from tests.fakes.upstream import FakeUpstream, Script
from tests.harness import Running, bearer, running_app
from tests.integration.inference_kit import CATALOG, MESSAGES, PROMPT_TOKENS, REPLY_TOKENS, provider_env
from tests.services import unique_name

HOLD = Decimal("0.000206")  # 6 estimated prompt tokens x $1/M + max_tokens 100 x $2/M
COST = (Decimal(PROMPT_TOKENS) * 1 + Decimal(REPLY_TOKENS) * 2) / Decimal(1_000_000)


@pytest.fixture(params=["sqlite", "postgres"])
async def app(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Running, FakeUpstream]]:
    env = {}
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        env = {"REDIS_URL": request.getfixturevalue("redis_url"),
               "REDIS_PREFIX": request.getfixturevalue("redis_prefix")}
    else:
        url = request.getfixturevalue("sqlite_url")
    async with FakeUpstream() as fake, running_app(url, **provider_env(fake.url), **env) as r:
        await (await r.service("load_catalog"))(*load_catalog_file(CATALOG))
        yield r, fake


async def warm(r: Running) -> None:
    """Open the Redis pool's connections and load its scripts first (another user's request), so that
    50 requests at once measure admission, not 50 cold connects racing the 0.5 s Redis timeout on a
    loaded machine (which answer 503, correctly, and made this test flaky)."""
    client = await r.service("redis")
    if client is None:
        return
    await asyncio.gather(*(client.ping() for _ in range(50)))
    _, other = await r.user(unique_name("warm") + "@example.com", credits=1)
    assert (await chat(r, other)).status_code == 200  # type: ignore[attr-defined]


async def ledger(r: Running, user_id: int) -> list[Decimal]:
    """The user's ledger, after the settlement journal (written behind) has been flushed."""
    await r.written()
    engine = await r.service("engine")
    async with engine.connect() as conn:
        rows = await conn.execute(select(ct.c.amount).where(ct.c.user_id == user_id).order_by(ct.c.id))
        return [Decimal(a) for a in rows.scalars()]


async def chat(r: Running, key: str, **body: object) -> object:
    return await r.client.post("/v1/chat/completions", headers=bearer(key), timeout=30,
                               json={"model": "acme/chat", "messages": MESSAGES, "max_tokens": 100, **body})


async def test_fifty_parallel_requests_admit_only_what_the_balance_holds(app: tuple[Running, FakeUpstream]) -> None:
    r, fake = app
    await warm(r)
    user_id, key = await r.user(unique_name("payer") + "@example.com", credits=HOLD * 10)
    fake.script("chat-a", Script(delay_s=2.0))  # all 50 are admitted or refused before any settles
    responses = await asyncio.gather(*(chat(r, key) for _ in range(50)))
    statuses = [resp.status_code for resp in responses]  # type: ignore[attr-defined]
    print(f"admitted={statuses.count(200)} refused={statuses.count(402)}")
    assert (statuses.count(200), statuses.count(402)) == (10, 40)
    rows = await ledger(r, user_id)
    assert rows == [HOLD * 10] + [-COST] * 10
    user = await (await r.service("show_user"))(user_id)
    assert user.user.balance == sum(rows) >= 0


async def test_a_request_is_charged_exactly_and_its_row_carries_the_cost(app: tuple[Running, FakeUpstream]) -> None:
    r, _ = app
    user_id, key = await r.user(unique_name("payer") + "@example.com", credits=1)
    resp = await chat(r, key)
    assert resp.status_code == 200  # type: ignore[attr-defined]
    body = resp.json()  # type: ignore[attr-defined]
    assert Decimal(str(body["usage"]["cost"])) == COST
    assert body["gateway_usage"]["tokens_charged"] == PROMPT_TOKENS + REPLY_TOKENS
    assert await ledger(r, user_id) == [Decimal(1), -COST]
    await r.written()
    engine = await r.service("engine")
    async with engine.connect() as conn:
        cost = (await conn.execute(select(ccr.c.cost_usd).where(ccr.c.user_id == user_id))).scalar_one()
    assert Decimal(cost) == COST


async def test_failed_requests_and_refusals_cost_nothing(app: tuple[Running, FakeUpstream]) -> None:
    r, fake = app
    user_id, key = await r.user(unique_name("payer") + "@example.com", credits=1)
    for native in ("chat-a", "chat-b", "chat-c"):
        fake.script(native, Script(status=500))
    assert (await chat(r, key)).status_code == 502  # type: ignore[attr-defined]
    fake.reset()
    fake.script("chat-a", Script(status=400, error_message="bad request"))
    assert (await chat(r, key)).status_code == 400  # type: ignore[attr-defined]
    assert await ledger(r, user_id) == [Decimal(1)]
    _, poor = await r.user(unique_name("poor") + "@example.com", credits=Decimal("0.0000001"))
    refused = await chat(r, poor)
    assert refused.status_code == 402  # type: ignore[attr-defined]
    error = json.loads(refused.text, parse_float=Decimal)["error"]  # type: ignore[attr-defined]
    assert error["required"] == HOLD and Decimal(0) <= error["available"] <= Decimal("0.0000001")  # JSON numbers
    assert '"required":' + format(HOLD, "f") in refused.text  # type: ignore[attr-defined]
    assert fake.count("chat-a") == 1  # the refused request never reached a provider
