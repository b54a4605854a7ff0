"""Redemption is exact under concurrency, against real PostgreSQL (and two app instances sharing it):
max_uses is never exceeded, a user is paid once per coupon, and every balance stays explained by
its ledger rows."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.postgres.engine import create_engine
from adapters.postgres.tables import coupon_redemptions, coupons, credit_transactions, users
from domain.money import total
from tests.harness import Running, bearer, running_app


@pytest.fixture
async def apps(postgres_url: str, redis_url: str, redis_prefix: str) -> AsyncIterator[list[Running]]:
    """Two gateway instances (separate pools, containers and caches) over one PostgreSQL and Redis."""
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(running_app(postgres_url, REDIS_URL=redis_url,
                                                           REDIS_PREFIX=redis_prefix)) for _ in range(2)]


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}@example.com"


async def new_coupon(app: Running, admin_key: str, *, max_uses: int, value: str = "1.5") -> dict[str, Any]:
    resp = await app.client.post("/admin/coupons", headers=bearer(admin_key), json={
        "code": f"RUSH-{uuid.uuid4().hex[:10]}", "value_usd": value, "coupon_scope": "global", "max_uses": max_uses,
        "valid_until": (datetime.now(UTC) + timedelta(days=1)).isoformat()})
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


async def rush(apps: list[Running], code: str, keys: list[str]) -> list[Any]:
    """Every key redeems at once, alternating between the instances; keys are authenticated beforehand
    so the redemptions themselves overlap."""
    for i, key in enumerate(keys):
        assert (await apps[i % 2].client.get("/coupons/available", headers=bearer(key))).status_code == 200
    return list(await asyncio.gather(*(apps[i % 2].client.post("/coupons/redeem", json={"code": code},
                                                               headers=bearer(key))
                                       for i, key in enumerate(keys))))


async def database_truth(url: str, coupon_id: int, user_ids: list[int]) -> tuple[int, int, int, dict[int, bool]]:
    """(times_used, redemption rows, coupon ledger rows) for the coupon, and per user: ledger sum == balance."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            times_used = (await conn.execute(select(coupons.c.times_used)
                                             .where(coupons.c.id == coupon_id))).scalar_one()
            redemptions = (await conn.execute(select(func.count()).select_from(coupon_redemptions)
                                              .where(coupon_redemptions.c.coupon_id == coupon_id))).scalar_one()
            ledger_rows = (await conn.execute(select(func.count()).select_from(credit_transactions).where(
                credit_transactions.c.transaction_type == "coupon",
                credit_transactions.c.user_id.in_(user_ids)))).scalar_one()
            explained = {}
            for uid in user_ids:
                user = (await conn.execute(select(users).where(users.c.id == uid))).mappings().one()
                amounts = (await conn.execute(select(credit_transactions.c.amount)
                                              .where(credit_transactions.c.user_id == uid))).scalars().all()
                explained[uid] = total(amounts) == user["subscription_allowance"] + user["purchased_credits"]
    finally:
        await engine.dispose()
    return times_used, redemptions, ledger_rows, explained


async def test_twenty_users_racing_for_five_uses_get_exactly_five(apps: list[Running], postgres_url: str) -> None:
    _, admin_key = await apps[0].user(unique("root"), admin=True)
    people = [await apps[0].user(unique(f"racer{i}"), credits=1) for i in range(20)]
    coupon = await new_coupon(apps[0], admin_key, max_uses=5)
    responses = await rush(apps, coupon["code"], [key for _, key in people])
    outcomes = Counter((r.status_code, r.json()["error_code"]) for r in responses)
    assert outcomes == {(200, None): 5, (400, "MAX_USES_EXCEEDED"): 15}, outcomes
    winners = [r.json() for r in responses if r.status_code == 200]
    assert all((w["previous_balance"], w["new_balance"]) == (1, 2.5) for w in winners)
    times_used, redemptions, ledger_rows, explained = await database_truth(postgres_url, coupon["id"],
                                                                           [uid for uid, _ in people])
    assert (times_used, redemptions, ledger_rows) == (5, 5, 5)
    assert all(explained.values()), explained
    shown = (await apps[1].client.get(f"/admin/coupons/{coupon['id']}", headers=bearer(admin_key))).json()
    assert (shown["times_used"], shown["max_uses"]) == (5, 5)


async def test_one_user_redeeming_five_times_at_once_is_paid_once(apps: list[Running], postgres_url: str) -> None:
    _, admin_key = await apps[0].user(unique("root"), admin=True)
    uid, key = await apps[0].user(unique("eager"), credits=3)
    coupon = await new_coupon(apps[0], admin_key, max_uses=100, value="10")
    responses = await rush(apps, coupon["code"], [key] * 5)
    outcomes = Counter((r.status_code, r.json()["error_code"]) for r in responses)
    assert outcomes == {(200, None): 1, (400, "ALREADY_REDEEMED"): 4}, outcomes
    times_used, redemptions, ledger_rows, explained = await database_truth(postgres_url, coupon["id"], [uid])
    assert (times_used, redemptions, ledger_rows) == (1, 1, 1)
    assert explained == {uid: True}
    balance = (await apps[1].client.get(f"/admin/users/{uid}", headers=bearer(admin_key))).json()["user"]["credits"]
    assert Decimal(str(balance)) == Decimal(13)


async def test_one_user_racing_for_a_single_use_coupon_is_paid_once(apps: list[Running], postgres_url: str) -> None:
    _, admin_key = await apps[0].user(unique("root"), admin=True)
    uid, key = await apps[0].user(unique("eager"))
    coupon = await new_coupon(apps[0], admin_key, max_uses=1)
    responses = await rush(apps, coupon["code"], [key] * 5)
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 400: 4}, [r.json() for r in responses]
    assert {r.json()["error_code"] for r in responses if r.status_code == 400} <= {"ALREADY_REDEEMED",
                                                                                  "MAX_USES_EXCEEDED"}
    times_used, redemptions, ledger_rows, explained = await database_truth(postgres_url, coupon["id"], [uid])
    assert (times_used, redemptions, ledger_rows, explained) == (1, 1, 1, {uid: True})


async def test_redemptions_racing_an_admin_lowering_max_uses_never_pass_it(apps: list[Running],
                                                                          postgres_url: str) -> None:
    _, admin_key = await apps[0].user(unique("root"), admin=True)
    people = [await apps[0].user(unique(f"r{i}")) for i in range(12)]
    coupon = await new_coupon(apps[0], admin_key, max_uses=10)
    lower = apps[1].client.patch(f"/admin/coupons/{coupon['id']}", json={"max_uses": 4},
                                 headers=bearer(admin_key))
    redeemed, lowered = await asyncio.gather(rush(apps, coupon["code"], [k for _, k in people]), lower)
    won = sum(r.status_code == 200 for r in redeemed)
    times_used, redemptions, ledger_rows, explained = await database_truth(postgres_url, coupon["id"],
                                                                           [uid for uid, _ in people])
    assert times_used == redemptions == ledger_rows == won
    if lowered.status_code == 200:  # the update went first: at most 4 redemptions could follow it
        assert lowered.json()["max_uses"] == 4 and won <= 4
    else:  # more than 4 were already taken: the update was refused, not applied below times_used
        assert lowered.status_code == 422 and won > 4
    shown = (await apps[0].client.get(f"/admin/coupons/{coupon['id']}", headers=bearer(admin_key))).json()
    assert shown["times_used"] <= shown["max_uses"]
    assert all(explained.values())
