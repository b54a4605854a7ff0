"""Profile, account deletion, trials and deactivation through HTTP, on SQLite and on PostgreSQL +
Redis; on PostgreSQL a second gateway process (sharing the database and Redis) sees every change."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import update

from adapters.memory.clock import FixedClock
from adapters.postgres.engine import create_engine
from adapters.postgres.tables import users
from tests.harness import Running, bearer, running_app
from tests.integration.accounts_kit import RELAXED, deployment, identity, rows, tag

CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(params=["sqlite", "postgres"])
def app_env(request: pytest.FixtureRequest) -> dict[str, str]:
    return deployment(request)


@pytest.fixture
async def app(app_env: dict[str, str]) -> AsyncIterator[Running]:
    env = dict(app_env)
    async with running_app(env.pop("database_url"), **RELAXED, **env) as r:
        yield r


async def registered(app: Running, **extra: str) -> tuple[int, str, str]:
    username, email = identity()
    resp = await app.client.post("/auth/register", json={"username": username, "email": email, **extra})
    assert resp.status_code == 200, resp.text
    return resp.json()["user_id"], email, resp.json()["api_key"]


async def test_the_profile_shows_the_account(app: Running) -> None:
    user_id, email, key = await registered(app, password="long enough")
    body = (await app.client.get("/user/profile", headers=bearer(key))).json()
    assert (body["user_id"], body["email"], body["role"], body["tier"], body["tier_display_name"]) == (
        user_id, email, "user", "basic", "Basic")
    assert body["subscription_status"] == "trial" and body["trial_expires_at"] is not None
    assert body["credits"] == 5 and body["subscription_allowance"] == 5 and body["purchased_credits"] == 0
    assert body["has_password"] is True and body["privy_linked"] is False and body["preferences"] == {}
    assert len(body["referral_code"]) == 8


async def test_profile_updates_follow_the_registration_rules(app: Running) -> None:
    _, _, key = await registered(app)
    other_id, other_email, _ = await registered(app)
    empty = await app.client.put("/user/profile", json={}, headers=bearer(key))
    assert (empty.status_code, empty.json()) == (400, {"detail": "No fields to update"})
    taken = await app.client.put("/user/profile", json={"email": other_email.upper()}, headers=bearer(key))
    assert (taken.status_code, taken.json()) == (400, {"detail": "User with this email already exists"})
    for body, field in (({"username": "a b"}, "username"), ({"display_name": "x" * 101}, "display_name"),
                        ({"preferences": {"enable_butter_cache": "yes"}}, "enable_butter_cache"),
                        ({"preferences": {"blob": "x" * 9000}}, "preferences"), ({"email": "nope"}, "email")):
        resp = await app.client.put("/user/profile", json=body, headers=bearer(key))
        assert resp.status_code == 422 and field in resp.text, (body, resp.text)
    new_name = f"renamed_{tag()}"
    first = await app.client.put("/user/profile", json={"username": new_name, "display_name": "Ada",
                                                        "preferences": {"theme": "dark"}}, headers=bearer(key))
    assert first.status_code == 200, first.text
    second = await app.client.put("/user/profile", json={"preferences": {"enable_butter_cache": True}},
                                  headers=bearer(key))
    body = second.json()
    assert (body["username"], body["display_name"]) == (new_name, "Ada")
    assert body["preferences"] == {"theme": "dark", "enable_butter_cache": True}  # merged key by key
    clash = await app.client.put("/user/profile", json={"username": new_name.upper()},
                                 headers=bearer((await registered(app))[2]))
    assert (clash.status_code, clash.json()) == (400, {"detail": "Username already taken"})
    assert other_id != body["user_id"]


async def test_account_deletion_keeps_the_money_trail_and_drops_the_person(app: Running,
                                                                          app_env: dict[str, str]) -> None:
    user_id, email, key = await registered(app, password="long enough")
    spare = (await app.client.post("/user/api-keys", json={}, headers=bearer(key))).json()["api_key"]
    session = (await app.client.post("/v1/chat/sessions", json={"title": "mine"}, headers=bearer(key))).json()
    session_id = session["data"]["id"]
    saved = await app.client.post(f"/v1/chat/sessions/{session_id}/messages", headers=bearer(key),
                                  json={"role": "user", "content": "private words"})
    assert saved.status_code == 200, saved.text
    feedback = await app.client.post("/v1/chat/feedback", headers=bearer(key),
                                     json={"feedback_type": "thumbs_up", "session_id": session_id})
    assert feedback.status_code == 200, feedback.text
    unconfirmed = await app.client.delete("/user/account", headers=bearer(key))
    assert unconfirmed.status_code == 400
    resp = await app.client.delete("/user/account", params={"confirm": "true"}, headers=bearer(key))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["status"], body["message"], body["user_id"]) == ("success", "Account deleted", user_id)
    for k in (key, spare):
        gone = await app.client.get("/user/balance", headers=bearer(k))
        assert (gone.status_code, gone.json()) == (401, {"detail": "Invalid API key"})
    [row] = await rows(app_env["database_url"], "SELECT * FROM users WHERE id = :i", i=user_id)
    assert (row["email"], row["username"]) == (f"deleted-{user_id}@invalid", f"deleted-{user_id}")
    assert row["password_hash"] is None and row["privy_user_id"] is None and not row["is_active"]
    assert row["deleted_at"] is not None
    assert len(await rows(app_env["database_url"], "SELECT id FROM credit_transactions WHERE user_id = :i",
                          i=user_id)) == 1  # the starter credit stays
    report = await (await app.service("verify_ledger"))()
    assert [m for m in report.mismatches if m.user_id == user_id] == []  # the money trail still verifies
    for table in ("chat_sessions", "message_feedback"):
        assert await rows(app_env["database_url"], f"SELECT id FROM {table} WHERE user_id = :i", i=user_id) == []
    assert await rows(app_env["database_url"], "SELECT id FROM chat_messages WHERE session_id = :s",
                      s=session_id) == []
    again = await app.client.post("/auth/register", json={"username": f"again_{tag()}", "email": email})
    assert again.status_code == 200, again.text  # the address is free again
    assert (await app.client.post("/auth/login", json={"email": email, "password": "long enough"})).status_code == 401


async def test_the_only_admin_alone_gets_409(sqlite_url: str) -> None:
    async with running_app(sqlite_url, **RELAXED) as app:
        _, admin_key = await app.user("root@example.com", admin=True)
        resp = await app.client.delete("/user/account", params={"confirm": "true"}, headers=bearer(admin_key))
        assert (resp.status_code, resp.json()) == (409, {"detail": "The only active admin cannot delete itself"})


async def test_an_expired_trial_blocks_inference_only_and_a_coupon_converts_it(app_env: dict[str, str]) -> None:
    clock = FixedClock()
    env = dict(app_env)
    async with running_app(env.pop("database_url"), clock=clock, **RELAXED, **env) as app:
        user_id, _, key = await registered(app)
        _, admin_key = await app.user(f"admin-{tag()}@example.com", admin=True)
        code = f"CONVERT{tag().upper()}"
        made = await app.client.post("/admin/coupons", headers=bearer(admin_key), json={
            "code": code, "value_usd": 2, "coupon_scope": "global", "max_uses": 5,
            "valid_until": "2030-01-01T00:00:00Z", "valid_from": "2025-01-01T00:00:00Z"})
        assert made.status_code == 200, made.text
        clock.advance(3 * 86400 + 1)
        blocked = await app.client.post("/v1/chat/completions", json=CHAT, headers=bearer(key))
        assert blocked.status_code == 403 and blocked.json()["detail"] == "Trial expired"
        for path in ("/user/balance", "/user/profile", "/user/api-keys"):
            assert (await app.client.get(path, headers=bearer(key))).status_code == 200, path
        redeemed = await app.client.post("/coupons/redeem", json={"code": code}, headers=bearer(key))
        assert redeemed.status_code == 200, redeemed.text
        [row] = await rows(app_env["database_url"], "SELECT subscription_status, trial_converted_at FROM users "
                           "WHERE id = :i", i=user_id)
        assert row["subscription_status"] == "active" and row["trial_converted_at"] is not None
        after = await app.client.post("/v1/chat/completions", json=CHAT, headers=bearer(key))
        assert after.status_code != 403, after.text  # the trial no longer refuses (no provider is configured)


async def status_soon(app: Running, key: str, expected: int, *, path: str = "/user/balance") -> int:
    """The other process hears a broadcast over Redis pub/sub within milliseconds; allow up to 2 s."""
    deadline = asyncio.get_running_loop().time() + 2.0
    while True:
        status = (await app.client.get(path, headers=bearer(key))).status_code
        if status == expected or asyncio.get_running_loop().time() > deadline:
            return status
        await asyncio.sleep(0.02)


async def test_a_deactivated_user_and_a_revoked_key_are_401_in_a_second_process(
        postgres_url: str, redis_url: str, redis_prefix: str) -> None:
    env = {"REDIS_URL": redis_url, "REDIS_PREFIX": redis_prefix, **RELAXED}
    async with running_app(postgres_url, **env) as first, running_app(postgres_url, **env) as second:
        user_id, _, key = await registered(first)
        spare = (await first.client.post("/user/api-keys", json={"scopes": ["inference", "account"]},
                                         headers=bearer(key))).json()
        for app in (first, second):  # both processes cache the keys
            assert (await app.client.get("/user/balance", headers=bearer(key))).status_code == 200
            assert (await app.client.get("/user/balance", headers=bearer(spare["api_key"]))).status_code == 200
        revoked = await first.client.delete(f"/user/api-keys/{spare['id']}", headers=bearer(key))
        assert revoked.status_code == 200
        assert await status_soon(second, spare["api_key"], 401) == 401
        rotated = await first.client.post(f"/user/api-keys/{spare['id'] - 1}/rotate", headers=bearer(key))
        assert rotated.status_code == 200, rotated.text
        assert await status_soon(second, key, 401) == 401
        new_key = rotated.json()["api_key"]
        assert (await second.client.get("/user/balance", headers=bearer(new_key))).status_code == 200
        scoped = await first.client.put("/user/profile", json={"display_name": "seen"}, headers=bearer(new_key))
        assert scoped.status_code == 200
        assert (await second.client.get("/user/profile", headers=bearer(new_key))).json()["display_name"] == "seen"
        # deactivation (an admin's domain action) is broadcast as a user change
        engine = create_engine(postgres_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(update(users).where(users.c.id == user_id).values(is_active=False))
        finally:
            await engine.dispose()
        await (await first.service("bus")).publish("users", str(user_id))
        for app in (first, second):
            assert await status_soon(app, new_key, 401) == 401




async def test_activity_log_and_stats_through_http(app_env: dict[str, str]) -> None:
    from datetime import UTC, datetime

    from adapters.postgres.requests import PostgresRequestLogStore
    from domain.requests import RequestRecord

    clock = FixedClock(datetime(2026, 3, 12, 18, 0, tzinfo=UTC))
    env = dict(app_env)
    async with running_app(env.pop("database_url"), clock=clock, **RELAXED, **env) as app:
        user_id, _, key = await registered(app)
        key_id = (await app.client.get("/user/api-keys", headers=bearer(key))).json()["keys"][0]["id"]
        engine = create_engine(app_env["database_url"])
        try:
            await PostgresRequestLogStore(engine).add_many([RequestRecord(
                request_id=f"{tag()}-{i}", created_at=datetime(2026, 3, 10 + i, 9, 0, tzinfo=UTC), model=model,
                provider="openai", status=status, user_id=user_id, api_key_id=key_id, input_tokens=10 * (i + 1),
                output_tokens=5, processing_time_ms=500, cost_usd=Decimal(cost) if cost else None)
                for i, (model, status, cost) in enumerate([("a", "completed", "0.10"), ("b", "failed", None),
                                                           ("a", "completed", "0.25")])])
        finally:
            await engine.dispose()
        log = (await app.client.get("/user/activity/log", params={"limit": 2}, headers=bearer(key))).json()
        assert (log["total"], log["has_more"], log["limit"], log["offset"]) == (3, True, 2, 0)
        first = log["logs"][0]
        assert (first["model"], first["input_tokens"], first["total_tokens"], first["cost_usd"]) == ("a", 30, 35, 0.25)
        assert first["key_name"] == "Primary Key" and first["tokens_per_second"] == 10.0
        window = await app.client.get("/user/activity/log", headers=bearer(key), params={
            "from": "2026-03-11", "to": "2026-03-11", "status": "failed"})
        assert [e["model"] for e in window.json()["logs"]] == ["b"], window.text
        stats = (await app.client.get("/user/activity/stats", params={"days": 7}, headers=bearer(key))).json()
        assert stats["period"]["days"] == 7 and len(stats["daily"]) == 7
        assert stats["daily"][-1]["date"] == "2026-03-12" and stats["daily"][0]["date"] == "2026-03-06"
        assert [d["requests"] for d in stats["daily"]] == [0, 0, 0, 0, 1, 1, 1]
        totals = stats["totals"]
        assert (totals["requests"], totals["completed"], totals["failed"], totals["cost_usd"]) == (3, 2, 1, 0.35)
        assert [g["model"] for g in stats["by_model"]] == ["a", "b"]
        assert stats["by_key"][0]["key_name"] == "Primary Key" and stats["by_key"][0]["api_key_id"] == key_id
        for bad in ({"days": 0}, {"days": 366}):
            assert (await app.client.get("/user/activity/stats", params=bad, headers=bearer(key))).status_code == 422
        for bad in ({"limit": 0}, {"from": "yesterday"}, {"status": "pending"}):
            resp = await app.client.get("/user/activity/log", params=bad, headers=bearer(key))
            assert resp.status_code == 422, (bad, resp.text)


async def test_the_rate_limit_view_reflects_consumed_requests_without_consuming(app_env: dict[str, str]) -> None:
    from domain.limits import key_subject

    clock = FixedClock()
    env = dict(app_env)
    async with running_app(env.pop("database_url"), clock=clock, **RELAXED, **env) as app:
        _, _, key = await registered(app)
        key_id = (await app.client.get("/user/api-keys", headers=bearer(key))).json()["keys"][0]["id"]
        limiter = await app.service("rate_limiter")
        defaults = (await app.service("admission_settings")).limits
        for _ in range(3):
            assert (await limiter.admit(key_subject(key_id), defaults, 100, clock.now().timestamp())).allowed
        views = []
        for _ in range(2):  # looking twice changes nothing (the clock stands still)
            resp = await app.client.get("/user/rate-limits", headers=bearer(key))
            assert resp.status_code == 200, resp.text
            views.append(resp.json()["rate_limit_configs"])
        assert views[0] == views[1]
        [view] = views[1]
        assert (view["api_key_id"], view["key_name"], view["source"]) == (key_id, "Primary Key", "default")
        assert view["limits"]["requests_per_minute"] == defaults.requests_per_minute
        assert view["limits"]["tokens_per_hour"] is None  # off by default
        assert view["usage"] == {"requests_per_minute": 3, "requests_per_hour": 3, "requests_per_day": 3,
                                 "tokens_per_minute": 300, "tokens_per_hour": 0, "tokens_per_day": 300,
                                 "in_flight": 3}
        assert view["resets_in_seconds"]["minute"] == 1 and view["resets_in_seconds"]["day"] == 26
        assert view["display"].startswith(key[:12])
        next_admit = await limiter.admit(key_subject(key_id), defaults, 100, clock.now().timestamp())
        assert next_admit.status(next_admit.statuses[0].scope).remaining == defaults.requests_per_minute - 4
