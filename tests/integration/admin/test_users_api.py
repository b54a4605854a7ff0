"""Admin user aggregates over HTTP on SQLite and PostgreSQL (issue 14: #1601, #1608, #1610, #1611,
#1613, #1614): exact figures on small fixtures, bounds, 404 texts, route shadowing, keys never shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from adapters.postgres.tables import api_keys, chat_completion_requests, users
from tests.harness import Running, bearer
from tests.integration.admin.kit import insert_rows


async def admin(r: Running) -> dict[str, str]:
    _, key = await r.user("root@admin.test", admin=True)
    return bearer(key)


async def seed_users(r: Running) -> None:
    """3 admins (root included) and 7 regular users (the role check admits no `developer`); credits
    123.4566 over 10 users."""
    now = datetime.now(UTC)
    rows = []
    for i in range(9):
        role = "admin" if i < 2 else "user"
        rows.append(dict(username=f"u{i}", email=f"u{i}@ex{'%' if i == 0 else ''}ample.org", role=role,
                         subscription_allowance=Decimal("12.3456") if i == 0 else Decimal("12"),
                         purchased_credits=Decimal("15.111") if i == 0 else Decimal(0),
                         is_active=i != 8, created_at=now, updated_at=now,
                         subscription_status="trial" if i < 3 else "active"))
    await insert_rows(r, users, rows)


async def test_stats_count_roles_and_credits_in_sql(app: Running) -> None:
    h = await admin(app)
    await seed_users(app)
    body = (await app.client.get("/admin/users/stats", headers=h)).json()
    s = body["statistics"]
    assert body["total_users"] == 10
    assert (s["admin_users"], s["developer_users"], s["regular_users"]) == (3, 0, 7)
    assert (s["active_users"], s["inactive_users"]) == (9, 1)
    assert s["total_credits"] == 123.46 and s["average_credits"] == 12.35
    assert s["subscription_breakdown"] == {"trial": 3, "active": 7}
    only = (await app.client.get("/admin/users/stats", params={"email": "%"}, headers=h)).json()
    assert only["total_users"] == 1  # `%` is matched literally
    assert only["filters_applied"]["email"] == "%"


async def test_stats_of_nobody_average_zero(app: Running) -> None:
    h = await admin(app)
    body = (await app.client.get("/admin/users/stats", params={"email": "nobody-at-all"}, headers=h)).json()
    assert body["total_users"] == 0 and body["statistics"]["average_credits"] == 0


async def test_growth_is_cumulative_per_day(app: Running) -> None:
    h = await admin(app)  # root: created today
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    rows = [dict(username=f"old{i}", email=f"old{i}@x.org", created_at=today - timedelta(days=40),
                 updated_at=today) for i in range(4)]
    rows += [dict(username=f"y{i}", email=f"y{i}@x.org", created_at=today - timedelta(days=1), updated_at=today)
             for i in range(2)]
    await insert_rows(app, users, rows)
    body = (await app.client.get("/admin/users/growth", params={"days": 3}, headers=h)).json()
    assert [d["value"] for d in body["data"]] == [4, 6, 7]
    assert [d["new_users"] for d in body["data"]] == [0, 2, 1]
    assert body["total"] == 7 and body["growth_rate"] == 75.0
    assert body["end_date"] == today.date().isoformat()
    assert (await app.client.get("/admin/users/growth", params={"days": 366}, headers=h)).status_code == 422
    assert (await app.client.get("/admin/users/growth", params={"days": 0}, headers=h)).status_code == 422


async def test_balance_pages_with_display_keys(app: Running) -> None:
    h = await admin(app)
    ids, keys = [], []
    for i in range(3):
        uid, key = await app.user(f"b{i}@x.org", credits=i + 1)
        ids.append(uid)
        keys.append(key)
    body = (await app.client.get("/admin/balance", params={"limit": 2, "offset": 1}, headers=h)).json()
    assert body["total_users"] == 4 and body["has_more"] is True and len(body["users"]) == 2
    first = body["users"][0]
    assert first["api_key"] == f"{keys[0][:12]}…{keys[0][-4:]}" and first["credits"] == 1
    raw = (await app.client.get("/admin/balance", headers=h)).text
    assert not any(k in raw for k in keys)
    assert (await app.client.get("/admin/balance", params={"limit": 10001}, headers=h)).status_code == 422


async def test_list_filters_by_key_rules(app: Running) -> None:
    h = await admin(app)
    _, a_key = await app.user("alpha@x.org")
    await app.user("beta@x.org")

    async def emails(**params: str) -> list[str]:
        body = (await app.client.get("/admin/users", params=params, headers=h)).json()
        assert body["total_users"] == len(body["users"])
        return [u["email"] for u in body["users"]]

    assert await emails(api_key=a_key) == ["alpha@x.org"]
    assert await emails(api_key=a_key[-4:]) == ["alpha@x.org"]
    assert await emails(api_key=a_key[:10]) != []  # a prefix of the stored prefix
    assert "alpha@x.org" not in await emails(api_key=a_key[5:20])  # a middle part matches nothing
    assert await emails(email="BETA") == ["beta@x.org"]
    past = (await app.client.get("/admin/users", params={"email": "beta", "offset": 5}, headers=h)).json()
    assert past["total_users"] == 1 and past["users"] == []  # the seed said 0 here


async def test_by_api_key_exact_only(app: Running) -> None:
    h = await admin(app)
    uid, key = await app.user("exact@x.org", credits=2)
    body = (await app.client.get("/admin/users/by-api-key", params={"api_key": key}, headers=h)).json()
    assert body["user"]["id"] == uid and body["user"]["credits"] == 2
    assert key not in (await app.client.get("/admin/users/by-api-key", params={"api_key": key}, headers=h)).text
    partial = await app.client.get("/admin/users/by-api-key", params={"api_key": key[:-1]}, headers=h)
    assert partial.status_code == 404
    assert partial.json()["detail"] == f"No user found with API key: {key[:20]}..."
    assert (await app.client.get("/admin/users/by-api-key", params={"api_key": ""}, headers=h)).status_code == 422
    assert (await app.client.get("/admin/users/by-api-key", headers=h)).status_code == 422


async def test_api_key_details_count_requests(app: Running) -> None:
    h = await admin(app)
    uid, key = await app.user("keyed@x.org")
    key_id = (await execute_key_id(app, uid))
    now = datetime.now(UTC)
    await insert_rows(app, chat_completion_requests, [
        dict(request_id=f"k{i}", user_id=uid, api_key_id=key_id, model="m", status="completed", created_at=now)
        for i in range(3)])
    body = (await app.client.get(f"/admin/api-keys/{key_id}", headers=h)).json()["api_key"]
    assert body["requests_used"] == 3 and body["user"]["id"] == uid and body["is_primary"] in (True, False)
    assert body["api_key"] == f"{key[:12]}…{key[-4:]}" and key not in str(body)
    missing = await app.client.get("/admin/api-keys/999999", headers=h)
    assert missing.status_code == 404


async def execute_key_id(r: Running, user_id: int) -> int:
    from sqlalchemy import select
    engine = await r.service("engine")
    async with engine.connect() as conn:
        return int((await conn.execute(select(api_keys.c.id).where(api_keys.c.user_id == user_id))).scalar_one())


async def test_static_segments_are_not_user_ids(app: Running) -> None:
    h = await admin(app)
    for path in ("/admin/users/count", "/admin/users/stats", "/admin/users/growth"):
        assert (await app.client.get(path, headers=h)).status_code == 200, path
    assert (await app.client.get("/admin/users/by-api-key", params={"api_key": "x"}, headers=h)).status_code == 404
    assert (await app.client.get("/admin/users/by-api-key", params={"api_key": "x"}, headers=h)).json()["detail"] \
        .startswith("No user found with API key")


async def test_non_admin_is_403(app: Running) -> None:
    _, key = await app.user("plain@x.org")
    for path in ("/admin/balance", "/admin/users/stats", "/admin/users/growth", "/admin/api-keys/1"):
        response = await app.client.get(path, headers=bearer(key))
        assert response.status_code == 403 and response.json()["detail"] == "Admin access required"
        assert (await app.client.get(path)).status_code == 401


async def test_details_show_request_rows_and_keys_in_display_form(app: Running) -> None:
    h = await admin(app)
    uid, key = await app.user("detail@x.org", credits=1)
    now = datetime.now(UTC)
    await insert_rows(app, chat_completion_requests, [
        dict(request_id=f"d{i}", user_id=uid, model="m", status="completed", created_at=now - timedelta(minutes=i))
        for i in range(12)])
    body = (await app.client.get(f"/admin/users/{uid}", headers=h)).json()
    assert [r["request_id"] for r in body["recent_usage"]] == [f"d{i}" for i in range(10)]
    assert body["api_keys"][0]["api_key"] == f"{key[:12]}…{key[-4:]}" and key not in str(body)
    assert body["user"]["subscription_status"] and "password_hash" not in body["user"]
    assert (await app.client.get("/admin/users/999999", headers=h)).json()["detail"] == "User not found"
