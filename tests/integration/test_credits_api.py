"""The credit endpoints through the HTTP app, on the embedded SQLite and on PostgreSQL + Redis:
POST /admin/add_credits (#1600), /credits/* (#1727-#1732), GET /user/balance and /user/credit-transactions."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.postgres.tables import idempotency_keys
from tests.harness import Running, bearer, running_app


@pytest.fixture(params=["sqlite", "postgres"])
def app_env(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "sqlite":
        return {"database_url": request.getfixturevalue("sqlite_url")}
    return {"database_url": request.getfixturevalue("postgres_url"), "REDIS_URL": request.getfixturevalue("redis_url"),
            "REDIS_PREFIX": request.getfixturevalue("redis_prefix")}


def start(env: dict[str, str], **extra: Any) -> AbstractAsyncContextManager[Running]:
    env = dict(env)
    return running_app(env.pop("database_url"), **env, **extra)


@pytest.fixture
async def app(app_env: dict[str, str]) -> AsyncIterator[Running]:
    async with start(app_env, ADMIN_MAX_CREDIT_GRANT="100", ADMIN_DAILY_GRANT_LIMIT="250") as r:
        yield r


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}@example.com"


async def admin_and_user(app: Running, credits: int = 0) -> tuple[str, int, str]:
    """(admin key, user id, user key)."""
    _, admin = await app.user(unique("admin"), admin=True)
    user_id, key = await app.user(unique("user"), credits=credits)
    return admin, user_id, key


async def balance(app: Running, key: str) -> dict[str, Any]:
    resp = await app.client.get("/user/balance", headers=bearer(key))
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


async def assert_ledger_clean(app: Running, *user_ids: int) -> None:
    """`gatewayz ledger verify` finds nothing wrong with these users (the session's PostgreSQL database also
    holds other suites' synthetic rows, so the report is read for this test's users)."""
    report = await (await app.service("verify_ledger"))()
    assert report.rows_checked > 0
    assert [m for m in report.mismatches if m.user_id in user_ids] == []


# --- POST /admin/add_credits (#1600) ---

async def test_admin_add_credits_credits_the_user_behind_the_key(app: Running) -> None:
    admin, user_id, key = await admin_and_user(app, credits=5)
    resp = await app.client.post("/admin/add_credits", headers=bearer(admin),
                                 json={"api_key": key, "credits": 10.25, "reason": "support ticket #4711"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "success" and body["user_id"] == user_id and body["reason"] == "support ticket #4711"
    assert body["message"].startswith("Added 10.25 credits to user user-")
    assert Decimal(str(body["new_balance"])) == Decimal("15.25")
    assert '"new_balance":15.2500000000' in resp.text  # an exact JSON number
    mine = await balance(app, key)
    assert (Decimal(str(mine["purchased_credits"])), Decimal(str(mine["credits"]))) == (Decimal("15.25"),
                                                                                          Decimal("15.25"))
    rows = (await app.client.get("/user/credit-transactions", headers=bearer(key))).json()["transactions"]
    assert rows[0]["transaction_type"] == "admin_credit" and rows[0]["description"] == "support ticket #4711"
    assert rows[0]["created_by"].startswith("admin:") and rows[0]["metadata"]["reason"] == "support ticket #4711"
    assert key not in resp.text and all(key not in str(r) for r in rows)
    await assert_ledger_clean(app, user_id)


async def test_admin_add_credits_errors_follow_the_seed(app: Running) -> None:
    admin, _, key = await admin_and_user(app)
    post = app.client.post
    cases = [
        ({"api_key": key, "credits": 100.01, "reason": "too much at once"}, 400, "maximum single grant"),
        ({"api_key": "gw_live_" + "x" * 43, "credits": 1, "reason": "nobody has this key"}, 404, "not found"),
        ({"api_key": "not-a-key", "credits": 1, "reason": "nobody has this key"}, 404, "not found"),
        ({"api_key": key, "credits": 1, "reason": "short"}, 422, None),
        ({"api_key": key, "credits": 0, "reason": "zero is not a grant"}, 422, None),
        ({"api_key": key, "credits": -5, "reason": "negative is not a grant"}, 422, None),
        ({"api_key": key, "reason": "no amount at all"}, 422, None),
        ({"api_key": key, "credits": "NaN", "reason": "not a number at all"}, 422, None),
    ]
    for payload, status, text in cases:
        resp = await post("/admin/add_credits", headers=bearer(admin), json=payload)
        assert resp.status_code == status, (payload, resp.text)
        if text:
            assert text in resp.json()["detail"], resp.text
        else:
            assert isinstance(resp.json()["detail"], list)
    assert Decimal(str((await balance(app, key))["credits"])) == 0


async def test_credit_writes_need_an_admin_key(app: Running) -> None:
    _, user_id, key = await admin_and_user(app)
    writes = [("/admin/add_credits", {"api_key": key, "credits": 1, "reason": "self-service grant"}),
              ("/credits/add", {"user_id": user_id, "amount": 1, "reason": "self-service grant"}),
              ("/credits/adjust", {"user_id": user_id, "amount": 1, "reason": "self-service grant"}),
              ("/credits/bulk-add", {"user_ids": [user_id], "amount": 1, "reason": "self-service grant"}),
              ("/credits/refund", {"user_id": user_id, "amount": 1})]
    for path, payload in writes:
        assert (await app.client.post(path, json=payload)).status_code == 401, path
        assert (await app.client.post(path, json=payload, headers=bearer("gw_live_" + "q" * 43))).status_code == 401
        resp = await app.client.post(path, json=payload, headers=bearer(key))
        assert resp.status_code == 403, (path, resp.text)
    for path in ("/credits/summary", "/credits/transactions"):
        assert (await app.client.get(path)).status_code == 401
        assert (await app.client.get(path, headers=bearer(key))).status_code == 403
    for path in ("/user/balance", "/user/credit-transactions"):
        assert (await app.client.get(path)).status_code == 401
    assert Decimal(str((await balance(app, key))["credits"])) == 0


# --- /credits/add, adjust, bulk-add, refund (#1729-#1732) ---

async def test_add_adjust_and_refund_answer_the_credit_response(app: Running) -> None:
    admin, user_id, key = await admin_and_user(app)
    add = await app.client.post("/credits/add", headers=bearer(admin), json={
        "user_id": user_id, "amount": 40, "reason": "welcome bonus credit", "metadata": {"campaign": "spring"}})
    assert add.status_code == 200, add.text
    body = add.json()
    assert set(body) == {"status", "message", "user_id", "previous_balance", "new_balance", "amount_changed",
                         "transaction_id", "timestamp"}
    assert (body["previous_balance"], body["new_balance"], body["amount_changed"]) == (0, 40, 40)
    debit = await app.client.post("/credits/adjust", headers=bearer(admin), json={
        "user_id": user_id, "amount": "-15.5", "reason": "duplicate grant reversed"})
    assert debit.status_code == 200, debit.text
    assert (debit.json()["previous_balance"], debit.json()["new_balance"]) == (40, 24.5)
    too_far = await app.client.post("/credits/adjust", headers=bearer(admin), json={
        "user_id": user_id, "amount": -100, "reason": "more than the user has"})
    assert too_far.status_code == 400 and "negative balance" in too_far.json()["detail"]
    refund = await app.client.post("/credits/refund", headers=bearer(admin), json={
        "user_id": user_id, "amount": 0.5, "original_transaction_id": debit.json()["transaction_id"],
        "reason": "partial refund"})
    assert refund.status_code == 200, refund.text
    assert refund.json()["new_balance"] == 25
    rows = (await app.client.get("/user/credit-transactions", headers=bearer(key))).json()["transactions"]
    assert [r["transaction_type"] for r in rows] == ["refund", "admin_debit", "admin_credit"]
    assert rows[0]["description"] == "Refund: partial refund"
    assert rows[0]["metadata"]["original_transaction_id"] == debit.json()["transaction_id"]
    assert rows[2]["metadata"]["campaign"] == "spring" and rows[2]["description"] == "Admin credit addition"
    mine = await balance(app, key)
    assert mine == {"user_id": user_id, "credits": 25, "subscription_allowance": 0, "purchased_credits": 25,
                    "held": 0}
    await assert_ledger_clean(app, user_id)


async def test_credit_write_errors_follow_the_seed(app: Running) -> None:
    admin, user_id, _ = await admin_and_user(app)
    _, other_id, _ = await admin_and_user(app)
    h = bearer(admin)
    post = app.client.post
    assert (await post("/credits/add", headers=h, json={"user_id": 987654, "amount": 1,
                                                         "reason": "nobody is there"})).json() == {
        "detail": "User 987654 not found"}
    assert (await post("/credits/add", headers=h, json={"user_id": user_id, "amount": 101,
                                                         "reason": "over the cap"})).status_code == 400
    assert (await post("/credits/adjust", headers=h, json={"user_id": user_id, "amount": 101,
                                                            "reason": "over the cap"})).status_code == 400
    assert (await post("/credits/adjust", headers=h, json={"user_id": 987654, "amount": -1,
                                                            "reason": "nobody is there"})).status_code == 404
    assert (await post("/credits/refund", headers=h, json={"user_id": 987654, "amount": 1})).status_code == 404
    for path, payload in [("/credits/add", {"user_id": user_id, "amount": 0, "reason": "zero is refused"}),
                          ("/credits/add", {"user_id": user_id, "amount": 1, "reason": "short"}),
                          ("/credits/adjust", {"user_id": user_id, "amount": 0, "reason": "zero is refused"}),
                          ("/credits/bulk-add", {"user_ids": [], "amount": 1, "reason": "no users listed"}),
                          ("/credits/bulk-add", {"user_ids": list(range(1, 102)), "amount": 1,
                                                 "reason": "too many users"}),
                          ("/credits/refund", {"user_id": user_id, "amount": -1}),
                          ("/credits/add", {"user_id": "x", "amount": 1, "reason": "not an id at all"})]:
        resp = await post(path, headers=h, json=payload)
        assert resp.status_code == 422, (path, payload, resp.text)
    grant = await post("/credits/add", headers=h, json={"user_id": other_id, "amount": 5,
                                                         "reason": "someone else's grant"})
    theirs = grant.json()["transaction_id"]
    refund = await post("/credits/refund", headers=h, json={"user_id": user_id, "amount": 5,
                                                             "original_transaction_id": theirs})
    assert refund.status_code == 400 and "does not belong" in refund.json()["detail"]
    missing = await post("/credits/refund", headers=h, json={"user_id": user_id, "amount": 5,
                                                              "original_transaction_id": 99999999})
    assert missing.status_code == 404
    summary = (await app.client.get(f"/credits/summary?user_id={user_id}", headers=h)).json()
    assert summary["summary"]["total_transactions"] == 0 and summary["current_balance"] == 0


async def test_bulk_add_credits_every_listed_user_once_and_reports_unknown_ones(app: Running) -> None:
    admin, a, key_a = await admin_and_user(app)
    _, b, _ = await admin_and_user(app)
    resp = await app.client.post("/credits/bulk-add", headers=bearer(admin), json={
        "user_ids": [a, b, a, 987654], "amount": 7.5, "reason": "outage compensation"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["status"], body["total_users"], body["successful"], body["failed"]) == ("partial", 3, 2, 1)
    assert (body["amount_per_user"], body["total_credits_added"]) == (7.5, 15)
    assert {r["user_id"]: r["status"] for r in body["results"]} == {a: "success", b: "success", 987654: "failed"}
    assert (await balance(app, key_a))["credits"] == 7.5
    # the daily limit counts amount x distinct users: 3 x 80 > 250 - 22.5
    over = await app.client.post("/credits/bulk-add", headers=bearer(admin), json={
        "user_ids": [a, b, 987654], "amount": 80, "reason": "another compensation"})
    assert over.status_code == 400 and "daily grant limit" in over.json()["detail"]
    await assert_ledger_clean(app, a, b)


async def test_the_daily_grant_limit_is_per_admin_and_counts_every_grant_endpoint(app: Running) -> None:
    admin, user_id, key = await admin_and_user(app)
    _, other_admin = await app.user(unique("admin2"), admin=True)
    h = bearer(admin)
    assert (await app.client.post("/admin/add_credits", headers=h, json={
        "api_key": key, "credits": 100, "reason": "first grant today"})).status_code == 200
    assert (await app.client.post("/credits/add", headers=h, json={
        "user_id": user_id, "amount": 100, "reason": "second grant today"})).status_code == 200
    assert (await app.client.post("/credits/refund", headers=h, json={
        "user_id": user_id, "amount": 500, "reason": "refunds are not grants"})).status_code == 200
    refused = await app.client.post("/credits/adjust", headers=h, json={
        "user_id": user_id, "amount": 50.01, "reason": "third grant today"})
    assert refused.status_code == 400, refused.text
    assert "remaining: $50" in refused.json()["detail"]
    assert (await app.client.post("/credits/adjust", headers=h, json={
        "user_id": user_id, "amount": 50, "reason": "exactly up to the limit"})).status_code == 200
    assert (await app.client.post("/credits/add", headers=bearer(other_admin), json={
        "user_id": user_id, "amount": 100, "reason": "another admin's budget"})).status_code == 200
    assert (await balance(app, key))["credits"] == 850


# --- Idempotency-Key ---

async def test_a_repeated_idempotency_key_replays_the_first_result_and_changes_nothing(
        app: Running, app_env: dict[str, str]) -> None:
    admin, user_id, key = await admin_and_user(app)
    h = {**bearer(admin), "Idempotency-Key": f"grant-{uuid.uuid4().hex}"}
    writes = [("/credits/add", {"user_id": user_id, "amount": 3, "reason": "idempotent grant"}),
              ("/credits/adjust", {"user_id": user_id, "amount": -1, "reason": "idempotent debit"}),
              ("/credits/bulk-add", {"user_ids": [user_id], "amount": 2, "reason": "idempotent bulk"}),
              ("/credits/refund", {"user_id": user_id, "amount": 1}),
              ("/admin/add_credits", {"api_key": key, "credits": 4, "reason": "idempotent grant"})]
    for path, payload in writes:
        first = await app.client.post(path, headers=h, json=payload)
        assert first.status_code == 200, first.text
        before = await balance(app, key)
        again = await app.client.post(path, headers=h, json=payload)
        assert (again.status_code, again.content) == (200, first.content), path
        assert again.headers.get("Idempotent-Replayed") == "true" and "Idempotent-Replayed" not in first.headers
        assert await balance(app, key) == before
        reused = await app.client.post(path, headers=h, json={**payload, "reason": "a different request"})
        assert reused.status_code == 409, reused.text
    assert (await balance(app, key))["credits"] == 9
    rows = (await app.client.get("/user/credit-transactions", headers=bearer(key))).json()["transactions"]
    assert len(rows) == 5
    engine = await app.service("engine")
    async with engine.connect() as conn:
        stored = select(func.count()).select_from(idempotency_keys).where(
            idempotency_keys.c.key == h["Idempotency-Key"])
        assert (await conn.execute(stored)).scalar_one() == 5  # one per operation
    await assert_ledger_clean(app, user_id)


async def test_a_refused_write_does_not_use_up_its_idempotency_key(app: Running) -> None:
    admin, user_id, key = await admin_and_user(app)
    h = {**bearer(admin), "Idempotency-Key": "retry-me"}
    payload = {"user_id": user_id, "amount": -5, "reason": "debit before any credit"}
    assert (await app.client.post("/credits/adjust", headers=h, json=payload)).status_code == 400
    await app.client.post("/credits/add", headers=bearer(admin), json={"user_id": user_id, "amount": 10,
                                                                         "reason": "now there is money"})
    retried = await app.client.post("/credits/adjust", headers=h, json=payload)
    assert retried.status_code == 200 and "Idempotent-Replayed" not in retried.headers
    assert (await balance(app, key))["credits"] == 5
    bad = await app.client.post("/credits/add", headers={**bearer(admin), "Idempotency-Key": "k" * 256},
                                json={"user_id": user_id, "amount": 1, "reason": "key is too long"})
    assert bad.status_code == 422


async def test_concurrent_requests_with_one_idempotency_key_apply_once(app: Running) -> None:
    admin, user_id, key = await admin_and_user(app)
    h = {**bearer(admin), "Idempotency-Key": "once"}
    payload = {"user_id": user_id, "amount": 2, "reason": "concurrent duplicates"}
    replies = await asyncio.gather(*(app.client.post("/credits/add", headers=h, json=payload) for _ in range(5)))
    assert {r.status_code for r in replies} == {200}
    assert len({r.content for r in replies}) == 1
    assert (await balance(app, key))["credits"] == 2


# --- reads ---

async def test_transactions_filter_sort_and_page(app: Running) -> None:
    admin, a, _ = await admin_and_user(app)
    _, b, _ = await admin_and_user(app)
    h = bearer(admin)
    for user_id, amount in ((a, "10"), (a, "-2.5"), (b, "30"), (a, "0.75")):
        path = "/credits/add" if not amount.startswith("-") else "/credits/adjust"
        resp = await app.client.post(path, headers=h, json={"user_id": user_id, "amount": amount,
                                                             "reason": "building a history"})
        assert resp.status_code == 200, resp.text
    get = app.client.get

    async def amounts(query: str) -> list[float]:
        resp = await get(f"/credits/transactions?{query}", headers=h)
        assert resp.status_code == 200, resp.text
        return [t["amount"] for t in resp.json()["transactions"]]

    assert await amounts(f"user_id={a}") == [0.75, -2.5, 10]
    assert await amounts(f"user_id={a}&sort_order=asc") == [10, -2.5, 0.75]
    assert await amounts(f"user_id={a}&sort_by=amount") == [10, 0.75, -2.5]
    assert await amounts(f"user_id={a}&direction=charge") == [-2.5]
    assert await amounts(f"user_id={a}&direction=credit&sort_by=amount&sort_order=asc") == [0.75, 10]
    assert await amounts(f"user_id={a}&min_amount=1&max_amount=5") == [-2.5]
    assert await amounts(f"user_id={a}&transaction_type=admin_debit") == [-2.5]
    assert await amounts(f"user_id={a}&from_date=2000-01-01&to_date=2999-12-31") == [0.75, -2.5, 10]
    assert await amounts(f"user_id={a}&to_date=2000-01-01") == []
    page = (await get(f"/credits/transactions?user_id={a}&limit=2&offset=1", headers=h)).json()
    assert page["pagination"] == {"total": 2, "limit": 2, "offset": 1, "has_more": False}
    first = (await get(f"/credits/transactions?user_id={a}&limit=2", headers=h)).json()
    assert first["pagination"]["has_more"] is True and first["filters_applied"]["user_id"] == a
    row = first["transactions"][0]
    assert set(row) == {"id", "user_id", "amount", "transaction_type", "description", "balance_before",
                        "balance_after", "created_at", "payment_id", "metadata", "created_by"}
    for query, status in [("direction=up", 400), ("sort_by=name", 400), ("sort_order=sideways", 400),
                          ("limit=0", 422), ("limit=1001", 422), ("offset=-1", 422), ("from_date=yesterday", 422),
                          ("min_amount=lots", 422)]:
        resp = await get(f"/credits/transactions?{query}", headers=h)
        assert resp.status_code == status, (query, resp.text)
    assert (await get("/credits/transactions?direction=up", headers=h)).json() == {
        "detail": "direction must be 'credit' or 'charge'"}


async def test_summaries_for_one_user_and_for_the_system(app: Running) -> None:
    admin, a, _ = await admin_and_user(app)
    h = bearer(admin)
    for path, amount in (("/credits/add", "10"), ("/credits/adjust", "-2.5"), ("/credits/add", "0.75")):
        await app.client.post(path, headers=h, json={"user_id": a, "amount": amount, "reason": "summary history"})
    mine = (await app.client.get(f"/credits/summary?user_id={a}", headers=h)).json()
    assert mine["user_id"] == a and mine["current_balance"] == 8.25 and mine["user_info"]["credits"] == 8.25
    s = mine["summary"]
    assert (s["total_transactions"], s["total_credits_added"], s["total_credits_used"], s["net_change"]) == (
        3, 10.75, 2.5, 8.25)
    assert s["by_type"] == {"admin_credit": {"count": 2, "total_amount": 10.75, "average_amount": 5.375},
                            "admin_debit": {"count": 1, "total_amount": -2.5, "average_amount": -2.5}}
    assert s["transaction_count_by_direction"] == {"credits": 2, "charges": 1}
    assert s["largest_credit"]["amount"] == 10 and s["largest_charge"]["amount"] == -2.5
    assert len(s["daily_breakdown"]) == 1 and s["daily_breakdown"][0]["count"] == 3
    assert s["average_transaction"] == pytest.approx(13.25 / 3)
    assert (await app.client.get("/credits/summary?user_id=987654", headers=h)).status_code == 404
    system = (await app.client.get("/credits/summary?from_date=2000-01-01", headers=h)).json()["system_summary"]
    assert system["total_users"] >= 2 and system["total_transactions"] >= 3
    assert "admin_debit" in system["by_type"] and set(system["by_type"]["admin_debit"]) == {"count", "total_amount"}
    assert (await app.client.get("/credits/summary?to_date=31-12-2000", headers=h)).status_code == 422


async def test_own_transactions_page_newest_first_within_bounds(app: Running) -> None:
    admin, user_id, key = await admin_and_user(app)
    for i in range(3):
        await app.client.post("/credits/add", headers=bearer(admin),
                              json={"user_id": user_id, "amount": i + 1, "reason": f"grant number {i}"})
    page = (await app.client.get("/user/credit-transactions?limit=2", headers=bearer(key))).json()
    assert [t["amount"] for t in page["transactions"]] == [3, 2]
    assert page["pagination"] == {"total": 2, "limit": 2, "offset": 0, "has_more": True}
    rest = (await app.client.get("/user/credit-transactions?limit=2&offset=2", headers=bearer(key))).json()
    assert [t["amount"] for t in rest["transactions"]] == [1] and rest["pagination"]["has_more"] is False
    for query in ("limit=0", "limit=1001", "offset=-1"):
        assert (await app.client.get(f"/user/credit-transactions?{query}", headers=bearer(key))).status_code == 422
    _, _, other = await admin_and_user(app)
    assert (await app.client.get("/user/credit-transactions", headers=bearer(other))).json()["transactions"] == []


# --- concurrency (PostgreSQL) ---

async def test_concurrent_grants_near_the_daily_limit_let_exactly_one_through(
        postgres_url: str, redis_url: str, redis_prefix: str) -> None:
    async with running_app(postgres_url, REDIS_URL=redis_url, REDIS_PREFIX=redis_prefix,
                           ADMIN_MAX_CREDIT_GRANT="100", ADMIN_DAILY_GRANT_LIMIT="150") as app:
        admin, user_id, key = await admin_and_user(app)
        _, other_id, other_key = await admin_and_user(app)
        for _ in range(5):
            await app.client.post("/credits/add", headers=bearer(admin), json={
                "user_id": user_id, "amount": 10, "reason": "warming up the day"})
        # 50 granted: 100 left, so of any grants of 60 racing each other exactly one may pass
        replies = await asyncio.gather(
            app.client.post("/admin/add_credits", headers=bearer(admin), json={
                "api_key": other_key, "credits": 60, "reason": "racing grant by key"}),
            *(app.client.post("/credits/add", headers=bearer(admin), json={
                "user_id": user_id, "amount": 60, "reason": "racing grant by id"}) for _ in range(7)))
        assert sorted(r.status_code for r in replies) == [200] + [400] * 7, [r.text for r in replies]
        total = Decimal(str((await balance(app, key))["credits"])) + Decimal(
            str((await balance(app, other_key))["credits"]))
        assert total == 110
        assert other_id != user_id
        await assert_ledger_clean(app, user_id, other_id)
