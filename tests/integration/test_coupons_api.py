"""The coupon endpoints through the HTTP app, on SQLite and on PostgreSQL + Redis: every route's
auth (401/403), validation (422), the seed's bodies and each redemption refusal."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.postgres.engine import create_engine
from adapters.postgres.tables import credit_transactions, users
from domain.money import total
from tests.harness import Running, bearer, running_app

ADMIN_403 = {"detail": "Admin access required"}
API_KEY_REQUIRED = {"detail": "API key required"}


@pytest.fixture(params=["sqlite", "postgres"])
async def app(request: pytest.FixtureRequest) -> AsyncIterator[Running]:
    if request.param == "sqlite":
        env: dict[str, Any] = {"database_url": request.getfixturevalue("sqlite_url")}
    else:
        env = {"database_url": request.getfixturevalue("postgres_url"),
               "REDIS_URL": request.getfixturevalue("redis_url"),
               "REDIS_PREFIX": request.getfixturevalue("redis_prefix")}
    async with running_app(env.pop("database_url"), **env) as r:
        yield r


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}@example.com"


def code(prefix: str = "C") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}".upper()


def later(days: int = 30) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


class Actors:
    def __init__(self, app: Running, admin: tuple[int, str], user: tuple[int, str]) -> None:
        self.app = app
        self.admin_id, self.admin_key = admin
        self.user_id, self.user_key = user

    async def create(self, **body: Any) -> dict[str, Any]:
        payload = {"code": code(), "value_usd": 5, "coupon_scope": "global", "max_uses": 10,
                   "valid_until": later()}
        payload.update(body)
        resp = await self.app.client.post("/admin/coupons", json=payload, headers=bearer(self.admin_key))
        assert resp.status_code == 200, resp.text
        return resp.json()  # type: ignore[no-any-return]

    async def redeem(self, coupon_code: str, key: str | None = None) -> Any:
        return await self.app.client.post("/coupons/redeem", json={"code": coupon_code},
                                          headers=bearer(key or self.user_key))


@pytest.fixture
async def actors(app: Running) -> Actors:
    return Actors(app, await app.user(unique("root"), admin=True), await app.user(unique("ada"), credits=2))


ADMIN_ROUTES = [("POST", "/admin/coupons"), ("GET", "/admin/coupons"), ("GET", "/admin/coupons/stats/overview"),
                ("GET", "/admin/coupons/1"), ("GET", "/admin/coupons/1/analytics"), ("PATCH", "/admin/coupons/1"),
                ("DELETE", "/admin/coupons/1")]
USER_ROUTES = [("POST", "/coupons/redeem"), ("GET", "/coupons/available"), ("GET", "/coupons/history")]


async def test_every_coupon_route_needs_a_key_and_the_admin_routes_need_the_admin_role(actors: Actors) -> None:
    client = actors.app.client
    for method, path in ADMIN_ROUTES + USER_ROUTES:
        resp = await client.request(method, path, json={"code": "WELCOME"} if method in ("POST", "PATCH") else None)
        assert (resp.status_code, resp.json()) == (401, API_KEY_REQUIRED), (method, path)
        resp = await client.request(method, path, headers=bearer("gw_live_" + "x" * 43))
        assert resp.status_code == 401, (method, path)
    for method, path in ADMIN_ROUTES:
        body = {"code": "WELCOME1", "value_usd": 1, "coupon_scope": "global", "max_uses": 1,
                "valid_until": later()} if method == "POST" else {"is_active": False}
        resp = await client.request(method, path, json=body if method in ("POST", "PATCH") else None,
                                    headers=bearer(actors.user_key))
        assert (resp.status_code, resp.json()) == (403, ADMIN_403), (method, path)


async def test_an_admin_creates_reads_lists_updates_and_deactivates_a_coupon(actors: Actors) -> None:
    client, admin = actors.app.client, bearer(actors.admin_key)
    raw = code("Spring").lower()
    created = await actors.create(code=raw, value_usd="12.3456789012", max_uses=3, coupon_type="partnership",
                                  description="partners", valid_until="2099-01-01T00:00:00")
    assert created["code"] == raw.upper() and created["value_usd"] == 12.3456789012
    assert (created["coupon_scope"], created["coupon_type"], created["max_uses"], created["times_used"],
            created["is_active"], created["assigned_to_user_id"], created["created_by"], created["created_by_type"],
            created["description"]) == ("global", "partnership", 3, 0, True, None, actors.admin_id, "admin",
                                        "partners")
    assert created["valid_until"].startswith("2099-01-01T00:00:00") and created["valid_from"] and created["created_at"]
    cid = created["id"]

    shown = await client.get(f"/admin/coupons/{cid}", headers=admin)
    assert (shown.status_code, shown.json()) == (200, created)

    listed = (await client.get("/admin/coupons", params={"coupon_type": "partnership", "limit": 1000},
                               headers=admin)).json()
    assert cid in [c["id"] for c in listed["coupons"]]
    assert (listed["total"], listed["offset"], listed["limit"]) == (len(listed["coupons"]), 0, 1000)
    assert all(c["coupon_type"] == "partnership" for c in listed["coupons"])
    scoped = (await client.get("/admin/coupons", params={"scope": "user_specific", "is_active": "true"},
                               headers=admin)).json()
    assert cid not in [c["id"] for c in scoped["coupons"]] and scoped["limit"] == 100

    patched = await client.patch(f"/admin/coupons/{cid}", json={"max_uses": 7, "description": None,
                                                               "code": "IGNORED"}, headers=admin)
    assert patched.status_code == 200, patched.text
    assert (patched.json()["max_uses"], patched.json()["description"], patched.json()["code"]) == (
        7, None, created["code"])

    gone = await client.delete(f"/admin/coupons/{cid}", headers=admin)
    assert (gone.status_code, gone.json()) == (200, {"success": True, "message": "Coupon deactivated successfully"})
    again = await client.delete(f"/admin/coupons/{cid}", headers=admin)
    assert (again.status_code, again.json()) == (404, {"detail": "Coupon not found or already inactive"})
    assert (await client.get(f"/admin/coupons/{cid}", headers=admin)).json()["is_active"] is False


async def test_admin_not_found_and_nothing_to_update_answers(actors: Actors) -> None:
    client, admin = actors.app.client, bearer(actors.admin_key)
    missing = 987_654_321
    assert ((await client.get(f"/admin/coupons/{missing}", headers=admin)).json()) == {"detail": "Coupon not found"}
    resp = await client.get(f"/admin/coupons/{missing}/analytics", headers=admin)
    assert (resp.status_code, resp.json()) == (404, {"detail": "Coupon not found"})
    resp = await client.patch(f"/admin/coupons/{missing}", json={"is_active": False}, headers=admin)
    assert (resp.status_code, resp.json()) == (404, {"detail": "Coupon not found or update failed"})
    resp = await client.patch(f"/admin/coupons/{missing}", json={}, headers=admin)
    assert (resp.status_code, resp.json()) == (400, {"detail": "No fields to update"})
    resp = await client.delete(f"/admin/coupons/{missing}", headers=admin)
    assert (resp.status_code, resp.json()) == (404, {"detail": "Coupon not found or already inactive"})
    dup = await actors.create()
    resp = await client.post("/admin/coupons", json={"code": dup["code"].lower(), "value_usd": 1,
                                                     "coupon_scope": "global", "max_uses": 1,
                                                     "valid_until": later()}, headers=admin)
    assert resp.status_code == 409 and "already exists" in resp.json()["detail"]


INVALID_CREATES: list[tuple[dict[str, Any], str, str | None]] = [
    ({"code": "ab"}, "code", None),
    ({"code": "has space"}, "code", "Code must be alphanumeric (hyphens and underscores allowed)"),
    ({"value_usd": 0}, "value_usd", "value_usd must be greater than 0"),
    ({"value_usd": 1000.01}, "value_usd", "value_usd must be at most 1000"),
    ({"max_uses": 0}, "max_uses", None),
    ({"coupon_scope": "everyone"}, "coupon_scope", None),
    ({"coupon_type": "bribe"}, "coupon_type", None),
    ({"coupon_scope": "user_specific", "max_uses": 1}, "assigned_to_user_id",
     "User-specific coupons must have assigned_to_user_id"),
    ({"assigned_to_user_id": 1}, "assigned_to_user_id", "Global coupons cannot have assigned_to_user_id"),
    ({"coupon_scope": "user_specific", "assigned_to_user_id": 1, "max_uses": 2}, "max_uses",
     "User-specific coupons must have max_uses = 1"),
    ({"coupon_scope": "user_specific", "assigned_to_user_id": 987_654_321, "max_uses": 1}, "assigned_to_user_id",
     "Assigned user not found"),
    ({"description": "x" * 501}, "description", None),
    ({"valid_until": "not a date"}, "valid_until", None),
    ({"valid_until": "2001-01-01T00:00:00Z"}, "valid_until", "valid_until must be after valid_from"),
]


async def test_invalid_input_is_422_with_a_detail_list(actors: Actors) -> None:
    client, admin = actors.app.client, bearer(actors.admin_key)
    for fields, field, message in INVALID_CREATES:
        body: dict[str, Any] = {"code": code(), "value_usd": 5, "coupon_scope": "global", "max_uses": 10,
                                "valid_until": later()}
        body.update(fields)
        resp = await client.post("/admin/coupons", json=body, headers=admin)
        assert resp.status_code == 422, (fields, resp.text)
        [item] = resp.json()["detail"]
        assert item["loc"][-1] == field, (fields, item)
        if message:
            assert item["msg"] == message, (fields, item)
    for body in ({"code": "ab"}, {"code": "x" * 51}, {}, {"code": 12345}):
        resp = await client.post("/coupons/redeem", json=body, headers=bearer(actors.user_key))
        assert resp.status_code == 422 and isinstance(resp.json()["detail"], list), body
    cid = (await actors.create())["id"]
    for body in ({"max_uses": 0}, {"is_active": None}, {"description": "x" * 501}, {"valid_until": "2001-01-01"}):
        resp = await client.patch(f"/admin/coupons/{cid}", json=body, headers=admin)
        assert resp.status_code == 422, (body, resp.text)
    for path, params in (("/admin/coupons", {"limit": 0}), ("/admin/coupons", {"offset": -1}),
                         ("/admin/coupons", {"scope": "bogus"}), ("/admin/coupons", {"limit": 1001})):
        assert (await client.get(path, params=params, headers=admin)).status_code == 422, params
    for params in ({"limit": 0}, {"limit": "many"}):
        resp = await client.get("/coupons/history", params=params, headers=bearer(actors.user_key))
        assert resp.status_code == 422, params


async def test_redeeming_credits_the_balance_and_answers_with_the_seeds_body(actors: Actors) -> None:
    app = actors.app
    c = await actors.create(value_usd="7.25")
    resp = await actors.redeem(c["code"].lower())
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"success": True, "message": "Coupon redeemed successfully!", "coupon_code": c["code"],
                           "coupon_value": 7.25, "previous_balance": 2, "new_balance": 9.25, "error_code": None}
    assert (await app.client.get(f"/admin/coupons/{c['id']}", headers=bearer(actors.admin_key))).json()[
        "times_used"] == 1
    balance, rows = await ledger_of(app, actors.user_id)
    assert balance == Decimal("9.25") == total(r.amount for r in rows)
    [coupon_row] = [r for r in rows if r.transaction_type == "coupon"]
    assert coupon_row.amount == Decimal("7.25") and coupon_row.metadata["coupon_code"] == c["code"]

    history = (await app.client.get("/coupons/history", headers=bearer(actors.user_key))).json()
    assert history["total_redemptions"] == 1 and history["total_value_redeemed"] == 7.25
    [item] = history["redemptions"]
    assert (item["coupon_code"], item["coupon_scope"], item["coupon_type"], item["value_applied"],
            item["user_balance_before"], item["user_balance_after"]) == (c["code"], "global", "promotional", 7.25,
                                                                         2, 9.25)
    assert item["id"] and item["redeemed_at"]


async def ledger_of(app: Running, user_id: int) -> tuple[Decimal, list[Any]]:
    engine = create_engine(app.container.settings().database_url)
    try:
        async with engine.connect() as conn:
            user = (await conn.execute(select(users).where(users.c.id == user_id))).mappings().one()
            rows = (await conn.execute(select(credit_transactions)
                                       .where(credit_transactions.c.user_id == user_id))).all()
            assert (await conn.execute(select(func.count()).select_from(credit_transactions)
                                       .where(credit_transactions.c.user_id == user_id))).scalar_one() == len(rows)
    finally:
        await engine.dispose()
    return user["subscription_allowance"] + user["purchased_credits"], list(rows)


async def test_each_refusal_is_a_400_with_the_seeds_code_and_message_and_changes_nothing(actors: Actors) -> None:
    app, admin = actors.app, bearer(actors.admin_key)
    other_id, other_key = await app.user(unique("bob"))
    used = await actors.create(max_uses=1)
    assert (await actors.redeem(used["code"], other_key)).status_code == 200
    mine = await actors.create()
    assert (await actors.redeem(mine["code"])).status_code == 200
    off = await actors.create()
    await app.client.delete(f"/admin/coupons/{off['id']}", headers=admin)
    expired = await actors.create(valid_from="2020-01-01T00:00:00Z", valid_until="2020-02-01T00:00:00Z")
    future = await actors.create(valid_from=later(5), valid_until=later(10))
    bobs = await actors.create(coupon_scope="user_specific", assigned_to_user_id=other_id, max_uses=1)
    before = await ledger_of(app, actors.user_id)
    cases = [
        ("NO-SUCH-" + code(), "COUPON_NOT_FOUND", "Invalid coupon code"),
        (off["code"], "COUPON_INACTIVE", "Coupon is no longer available"),
        (expired["code"], "COUPON_EXPIRED", "Coupon has expired"),
        (future["code"], "COUPON_NOT_YET_ACTIVE", "Coupon is not yet active"),
        (bobs["code"], "COUPON_NOT_ASSIGNED", "This coupon is not valid for your account"),
        (used["code"], "MAX_USES_EXCEEDED", "Coupon has reached maximum usage limit"),
        (mine["code"], "ALREADY_REDEEMED", "You have already redeemed this coupon"),
    ]
    for sent, error_code, message in cases:
        resp = await actors.redeem(sent)
        assert resp.status_code == 400, (sent, resp.text)
        assert resp.json() == {"success": False, "message": message, "coupon_code": sent, "coupon_value": None,
                               "previous_balance": None, "new_balance": None, "error_code": error_code}
    assert await ledger_of(app, actors.user_id) == before
    for c in (used, mine, off, bobs):
        shown = (await app.client.get(f"/admin/coupons/{c['id']}", headers=admin)).json()
        assert shown["times_used"] == (1 if c in (used, mine) else 0)


async def test_available_lists_what_the_user_can_redeem_now(actors: Actors) -> None:
    app = actors.app
    t = code("AV")
    big = await actors.create(code=f"{t}-BIG", value_usd=900, description="big one")
    mine = await actors.create(code=f"{t}-MINE", value_usd=800, coupon_scope="user_specific",
                               assigned_to_user_id=actors.user_id, max_uses=1)
    other_id, _ = await app.user(unique("bob"))
    await actors.create(code=f"{t}-BOBS", value_usd=850, coupon_scope="user_specific", assigned_to_user_id=other_id,
                        max_uses=1)
    done = await actors.create(code=f"{t}-DONE", value_usd=700)
    assert (await actors.redeem(done["code"])).status_code == 200
    got = (await app.client.get("/coupons/available", headers=bearer(actors.user_key)))
    assert got.status_code == 200
    listed = [c for c in got.json() if c["code"].startswith(t)]
    assert [c["code"] for c in listed] == [big["code"], mine["code"]]
    assert listed[0] == {"coupon_id": big["id"], "code": big["code"], "value_usd": 900, "coupon_scope": "global",
                         "coupon_type": "promotional", "description": "big one", "valid_until": big["valid_until"],
                         "remaining_uses": 10}


async def test_stats_and_analytics_count_the_redemptions(actors: Actors) -> None:
    app, admin = actors.app, bearer(actors.admin_key)
    before = (await app.client.get("/admin/coupons/stats/overview", headers=admin)).json()
    c = await actors.create(value_usd="2.5", max_uses=4)
    _, bob_key = await app.user(unique("bob"))
    for key in (actors.user_key, bob_key):
        assert (await actors.redeem(c["code"], key)).status_code == 200
    after = (await app.client.get("/admin/coupons/stats/overview", headers=admin)).json()
    assert set(after) == {"total_coupons", "active_coupons", "user_specific_coupons", "global_coupons",
                          "total_redemptions", "unique_redeemers", "total_value_distributed",
                          "average_redemption_value"}
    assert after["total_coupons"] - before["total_coupons"] == 1
    assert after["global_coupons"] - before["global_coupons"] == 1
    assert after["total_redemptions"] - before["total_redemptions"] == 2
    assert after["unique_redeemers"] - before["unique_redeemers"] == 2
    assert Decimal(str(after["total_value_distributed"])) - Decimal(str(before["total_value_distributed"])) == 5
    analytics = (await app.client.get(f"/admin/coupons/{c['id']}/analytics", headers=admin)).json()
    assert analytics["coupon"]["id"] == c["id"] and analytics["coupon"]["times_used"] == 2
    assert (analytics["total_redemptions"], analytics["unique_users"], analytics["total_value_distributed"],
            analytics["redemption_rate"], analytics["remaining_uses"], analytics["is_expired"]) == (
        2, 2, 5, 50.0, 2, False)
