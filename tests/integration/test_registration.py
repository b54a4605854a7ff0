"""POST /auth/register (#1646) and POST /auth/login through the HTTP app, on SQLite and on
PostgreSQL + Redis: the seed's fields and texts, uniqueness decided by the database, the limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from tests.harness import Running, bearer, running_app
from tests.integration.accounts_kit import RELAXED, deployment, identity, rows, tag


@pytest.fixture(params=["sqlite", "postgres"])
def app_env(request: pytest.FixtureRequest) -> dict[str, str]:
    return deployment(request)


@pytest.fixture
async def app(app_env: dict[str, str]) -> AsyncIterator[Running]:
    env = dict(app_env)
    async with running_app(env.pop("database_url"), **RELAXED, **env) as r:
        yield r


async def register(app: Running, **fields: object) -> dict[str, object]:
    resp = await app.client.post("/auth/register", json=fields)
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


async def test_registration_answers_the_seed_fields_and_the_key_works(app: Running, app_env: dict[str, str]) -> None:
    username, email = identity()
    body = await register(app, username=username, email=email.upper(), password="correct horse")
    assert body["username"] == username and body["email"] == email  # stored lower-case
    assert body["credits"] == 5 and body["subscription_status"] == "trial" and body["auth_method"] == "email"
    assert body["scope_permissions"] == {"inference": ["*"], "account": ["*"]}
    assert body["environment_tag"] == "live" and body["message"] == "Account created successfully"
    key = str(body["api_key"])
    assert key.startswith("gw_live_")
    balance = await app.client.get("/user/balance", headers=bearer(key))
    assert balance.status_code == 200 and balance.json()["subscription_allowance"] == 5
    [user] = await rows(app_env["database_url"], "SELECT * FROM users WHERE id = :i", i=body["user_id"])
    assert user["subscription_status"] == "trial" and user["tier"] == "basic"
    assert user["trial_expires_at"] is not None and user["password_hash"].startswith("$argon2id$")
    assert len(user["referral_code"]) == 8 and user["referral_code"].isalnum() and user["referral_code"].isupper()
    [k] = await rows(app_env["database_url"], "SELECT * FROM api_keys WHERE user_id = :i", i=body["user_id"])
    assert (k["kind"], bool(k["is_primary"]), k["expires_at"], k["name"]) == ("standard", True, None, "Primary Key")
    assert key not in str(k.values()) and k["prefix"] == key[:12] and k["last4"] == key[-4:]
    [trial] = await rows(app_env["database_url"], "SELECT * FROM credit_transactions WHERE user_id = :i",
                         i=body["user_id"])
    assert trial["transaction_type"] == "trial" and Decimal(str(trial["amount"])) == Decimal(5)


async def test_taken_email_and_username_are_400_case_insensitively(app: Running) -> None:
    username, email = identity()
    await register(app, username=username, email=email)
    again = await app.client.post("/auth/register", json={"username": "other_" + tag(), "email": email.upper()})
    assert (again.status_code, again.json()) == (400, {"detail": "User with this email already exists"})
    taken = await app.client.post("/auth/register", json={"username": username.upper(), "email": identity()[1]})
    assert (taken.status_code, taken.json()) == (400, {"detail": "Username already taken"})


async def test_bad_fields_are_422_naming_the_field(app: Running) -> None:
    username, email = identity()
    for body, field in (({"username": username, "email": "not-an-email"}, "email"),
                        ({"username": "ab", "email": email}, "username"),
                        ({"username": "has space", "email": email}, "username"),
                        ({"username": username, "email": email, "password": "short"}, "password"),
                        ({"username": username, "email": email, "environment_tag": "prod"}, "environment_tag"),
                        ({"username": username, "email": email, "auth_method": "fax"}, "auth_method")):
        resp = await app.client.post("/auth/register", json=body)
        assert resp.status_code == 422, (body, resp.text)
        assert field in resp.text
    assert (await app.client.post("/auth/login", json={"email": email, "password": "x" * 8})).status_code == 401


async def test_blocked_domain_is_400_and_a_disposable_one_makes_a_bot_without_credit(app_env: dict[str, str]) -> None:
    env = dict(app_env)
    async with running_app(env.pop("database_url"), BLOCKED_EMAIL_DOMAINS="blocked.example", **RELAXED, **env) as r:
        resp = await r.client.post("/auth/register",
                                   json={"username": "u_" + tag(), "email": f"{tag()}@blocked.example"})
        assert (resp.status_code, resp.json()) == (400, {"detail": "This email address is not allowed"})
        bot = await register(r, username="u_" + tag(), email=f"{tag()}@mailinator.com")
        assert bot["subscription_status"] == "bot" and bot["credits"] == 0


async def test_a_referral_code_is_stored_only_when_it_names_a_user(app: Running, app_env: dict[str, str]) -> None:
    referrer = await register(app, username="ref_" + tag(), email=identity()[1])
    [ref_row] = await rows(app_env["database_url"], "SELECT referral_code FROM users WHERE id = :i",
                           i=referrer["user_id"])
    code = ref_row["referral_code"]
    good = await register(app, username="a_" + tag(), email=identity()[1], referral_code=code.lower())
    bad = await register(app, username="b_" + tag(), email=identity()[1], referral_code="ZZZZZZZZ")
    odd = await register(app, username="c_" + tag(), email=identity()[1], referral_code="x" * 40)
    stored = {r["id"]: r["referred_by_code"] for r in await rows(
        app_env["database_url"], "SELECT id, referred_by_code FROM users WHERE id IN (:a, :b, :c)",
        a=good["user_id"], b=bad["user_id"], c=odd["user_id"])}
    assert stored == {good["user_id"]: code, bad["user_id"]: None, odd["user_id"]: None}


async def test_ten_concurrent_registrations_of_one_email_make_one_account(app: Running,
                                                                         app_env: dict[str, str]) -> None:
    _, email = identity()
    variants = [email.upper() if i % 2 else email for i in range(10)]
    answers = await asyncio.gather(*(app.client.post("/auth/register", json={
        "username": f"race_{i}_{tag()}", "email": variant}) for i, variant in enumerate(variants)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [400] * 9, [a.text for a in answers]
    assert all(a.json() == {"detail": "User with this email already exists"} for a in answers if a.status_code == 400)
    assert len(await rows(app_env["database_url"], "SELECT id FROM users WHERE lower(email) = :e", e=email)) == 1


async def test_the_fourth_registration_per_hour_from_one_address_is_429(app_env: dict[str, str]) -> None:
    env = dict(app_env)
    async with running_app(env.pop("database_url"), **env) as r:  # the default 3/3600
        for _ in range(3):
            await register(r, username="l_" + tag(), email=identity()[1])
        resp = await r.client.post("/auth/register", json={"username": "l_" + tag(), "email": identity()[1]})
        assert resp.status_code == 429
        body = resp.json()
        assert body["detail"] == body["error"] == "Rate limit exceeded"
        assert 3500 <= body["retry_after"] <= 3601 and resp.headers["Retry-After"] == str(body["retry_after"])
        assert "message" in body


async def test_password_login_issues_a_login_key_and_every_failure_is_the_same_401(app: Running,
                                                                                 app_env: dict[str, str]) -> None:
    username, email = identity()
    registered = await register(app, username=username, email=email, password="correct horse")
    no_password = identity()
    await register(app, username=no_password[0], email=no_password[1])
    resp = await app.client.post("/auth/login", json={"email": email.upper(), "password": "correct horse"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["success"], body["message"], body["user_id"], body["username"]) == (
        True, "Login successful", registered["user_id"], username)
    assert body["credits"] == 5 and body["subscription_status"] == "trial"
    assert body["api_key"] != registered["api_key"]
    assert (await app.client.get("/user/balance", headers=bearer(body["api_key"]))).status_code == 200
    [login_key] = await rows(app_env["database_url"], "SELECT * FROM api_keys WHERE user_id = :i AND kind = 'login'",
                             i=registered["user_id"])
    assert login_key["name"].startswith("Login (password) ") and login_key["expires_at"] is not None
    failures = [{"email": email, "password": "wrong password"}, {"email": identity()[1], "password": "correct horse"},
                {"email": no_password[1], "password": "correct horse"}]
    for attempt in failures:
        failed = await app.client.post("/auth/login", json=attempt)
        assert (failed.status_code, failed.json()) == (401, {"detail": "Invalid email or password"}), attempt


async def test_ten_failed_logins_for_one_email_lock_it_for_the_hour(app: Running) -> None:
    username, email = identity()
    await register(app, username=username, email=email, password="correct horse")
    for _ in range(10):
        assert (await app.client.post("/auth/login", json={"email": email, "password": "nope"})).status_code == 401
    locked = await app.client.post("/auth/login", json={"email": email, "password": "correct horse"})
    assert locked.status_code == 429 and locked.json()["detail"] == "Rate limit exceeded"


async def test_a_login_rehashes_when_the_parameters_changed(app_env: dict[str, str]) -> None:
    env = dict(app_env)
    url = env.pop("database_url")
    username, email = identity()
    async with running_app(url, **RELAXED, **env) as first:
        user_id = (await register(first, username=username, email=email, password="correct horse"))["user_id"]
    [before] = await rows(url, "SELECT password_hash FROM users WHERE id = :i", i=user_id)
    async with running_app(url, ARGON2_TIME_COST="2", **RELAXED, **env) as second:
        resp = await second.client.post("/auth/login", json={"email": email, "password": "correct horse"})
        assert resp.status_code == 200
    [after] = await rows(url, "SELECT password_hash FROM users WHERE id = :i", i=user_id)
    assert ",t=1," in before["password_hash"] and ",t=2," in after["password_hash"]


async def test_trials_can_be_turned_off(app_env: dict[str, str]) -> None:
    env = dict(app_env)
    async with running_app(env.pop("database_url"), TRIAL_DURATION_DAYS="0", NEW_USER_CREDITS="1.25",
                           **RELAXED, **env) as r:
        body = await register(r, username="n_" + tag(), email=identity()[1])
        assert body["subscription_status"] == "active" and body["credits"] == 1.25
        profile = (await r.client.get("/user/profile", headers=bearer(str(body["api_key"])))).json()
        assert profile["trial_expires_at"] is None


async def test_registration_without_a_database_is_503_service_temporarily_unavailable(postgres_url: str) -> None:
    import socket

    from sqlalchemy.engine import make_url

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    closed = make_url(postgres_url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    async with running_app(closed, **RELAXED) as r:
        resp = await r.client.post("/auth/register", json={"username": "u_" + tag(), "email": identity()[1]})
        assert resp.status_code == 503 and resp.json()["detail"] == "Service temporarily unavailable"
