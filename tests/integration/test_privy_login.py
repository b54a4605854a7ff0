"""POST /auth (#1645) with real ES256 verification against a fake Privy issuer (PEM and JWKS modes),
on SQLite and on PostgreSQL + Redis."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.fakes.privy import FakePrivy, email_account
from tests.harness import Running, bearer, running_app
from tests.integration.accounts_kit import RELAXED, as_time, deployment, identity, rows, tag

INVALID = {"detail": "Invalid Privy identity token"}


@pytest.fixture(params=["sqlite", "postgres"])
def app_env(request: pytest.FixtureRequest) -> dict[str, str]:
    return deployment(request)


@pytest.fixture(scope="module")
def privy() -> FakePrivy:
    return FakePrivy()


@pytest.fixture
async def app(app_env: dict[str, str], privy: FakePrivy) -> AsyncIterator[Running]:
    env = dict(app_env)
    async with running_app(env.pop("database_url"), **privy.env("pem"), **RELAXED, **env) as r:
        yield r


def privy_id() -> str:
    return f"did:privy:{tag()}"


def body(sub: str, **extra: Any) -> dict[str, Any]:
    return {"user": {"id": sub, "created_at": int(time.time())}, **extra}


async def login(app: Running, privy: FakePrivy, sub: str, accounts: list[dict[str, Any]] | None = None,
                **extra: Any) -> dict[str, Any]:
    resp = await app.client.post("/auth", json=body(sub, identity_token=privy.token(sub, linked_accounts=accounts),
                                                    **extra))
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


async def test_a_first_login_creates_the_user_and_the_next_finds_it(app: Running, privy: FakePrivy,
                                                                   app_env: dict[str, str]) -> None:
    sub, email = privy_id(), identity()[1]
    first = await login(app, privy, sub, [email_account(email), {"type": "google_oauth", "email": email,
                                                                 "name": "Ada Lovelace"}])
    assert (first["message"], first["is_new_user"], first["email"], first["privy_user_id"]) == (
        "Account created successfully", True, email, sub)
    assert first["display_name"] == "Ada Lovelace" and first["auth_method"] == "email"
    assert first["credits"] == 5 and first["subscription_allowance"] == 500 and first["total_credits"] == 500
    assert first["purchased_credits"] == 0 and first["tier"] == "basic" and first["tier_display_name"] == "Basic"
    assert first["subscription_status"] == "trial" and first["trial_expires_at"] is not None
    assert first["subscription_end_date"] is None and first["allowance_reset_date"] is None
    assert first["api_key"].startswith("gw_live_")
    assert (await app.client.get("/user/balance", headers=bearer(first["api_key"]))).status_code == 200
    second = await login(app, privy, sub, [email_account(email)])
    assert (second["message"], second["is_new_user"], second["user_id"]) == (
        "Login successful", False, first["user_id"])
    assert second["api_key"] != first["api_key"]
    users = await rows(app_env["database_url"], "SELECT id, username FROM users WHERE privy_user_id = :p", p=sub)
    assert len(users) == 1 and users[0]["username"] == email.split("@")[0].replace("-", "")
    events = await rows(app_env["database_url"], "SELECT event_type, details FROM audit_log WHERE user_id = :i "
                        "AND event_type LIKE 'auth.%' ORDER BY id", i=first["user_id"])
    assert [e["event_type"] for e in events] == ["auth.register", "auth.login"]


async def test_test_environment_keys_and_no_key_on_request(app: Running, privy: FakePrivy) -> None:
    sub = privy_id()
    test_key = await login(app, privy, sub, environment_tag="test")
    assert test_key["api_key"].startswith("gw_test_")
    none = await login(app, privy, sub, auto_create_api_key=False)
    assert none["api_key"] is None and none["is_new_user"] is False


def _forge_none(token: str) -> str:
    _, payload, _ = token.split(".")
    none_header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    return f"{none_header}.{payload}."


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256_with(secret: bytes, claims: dict[str, Any]) -> str:
    """The key-confusion forgery, by hand (PyJWT itself refuses to use a PEM key as an HMAC secret):
    a verifier that took `alg` from the token would check this HMAC with the public key and accept it."""
    signing_input = f"{_b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _tamper(token: str, sub: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["linked_accounts"] = json.dumps([email_account("victim@example.com")])
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


async def test_every_bad_token_is_401_and_creates_nobody(app: Running, privy: FakePrivy,
                                                         app_env: dict[str, str]) -> None:
    sub = privy_id()
    other_key = ec.generate_private_key(ec.SECP256R1())
    hs256_confusion = _hs256_with(privy.public_pem.encode(), {
        "sub": sub, "iss": "privy.io", "aud": privy.app_id, "iat": int(time.time()), "exp": int(time.time()) + 600})
    bad = {
        "expired": privy.token(sub, exp_in=-120),
        "wrong aud": privy.token(sub, aud="another-app"),
        "wrong iss": privy.token(sub, iss="evil.example"),
        "sub mismatch": privy.token(privy_id()),
        "tampered": _tamper(privy.token(sub), sub),
        "another key": privy.token(sub, key=other_key),
        "alg none": _forge_none(privy.token(sub)),
        "hs256 with the public key": hs256_confusion,
        "issued in the future": privy.token(sub, iat_offset=600),
        "garbage": "not.a.jwt",
    }
    for why, token in bad.items():
        resp = await app.client.post("/auth", json=body(sub, identity_token=token))
        assert (resp.status_code, resp.json()) == (401, INVALID), why
    assert await rows(app_env["database_url"], "SELECT id FROM users WHERE privy_user_id = :p", p=sub) == []


async def test_body_claims_without_a_token_are_401_and_the_token_may_come_by_header_or_cookie(
        app: Running, privy: FakePrivy) -> None:
    sub = privy_id()
    claims = body(sub, email="admin@example.com", token="whatever",
                  user={"id": sub, "linked_accounts": [{"type": "email", "address": "admin@example.com",
                                                         "verified_at": 1}]})
    resp = await app.client.post("/auth", json=claims)
    assert (resp.status_code, resp.json()) == (401, {"detail": "Privy identity token required"})
    by_header = await app.client.post("/auth", json=body(sub), headers={"privy-id-token": privy.token(sub)})
    assert by_header.status_code == 200, by_header.text
    app.client.cookies.set("privy-id-token", privy.token(sub))
    try:
        by_cookie = await app.client.post("/auth", json=body(sub))
    finally:
        app.client.cookies.clear()
    assert by_cookie.status_code == 200 and by_cookie.json()["user_id"] == by_header.json()["user_id"]


async def test_body_identity_is_ignored(app: Running, privy: FakePrivy) -> None:
    sub, mine = privy_id(), identity()[1]
    resp = await app.client.post("/auth", json=body(
        sub, identity_token=privy.token(sub, linked_accounts=[email_account(mine)]), email="ceo@example.com",
        user={"id": sub, "linked_accounts": [{"type": "email", "address": "ceo@example.com", "verified_at": 1}]}))
    assert resp.status_code == 200 and resp.json()["email"] == mine


async def test_a_verified_email_links_a_registered_user_an_unverified_one_does_not(
        app: Running, privy: FakePrivy, app_env: dict[str, str]) -> None:
    username, email = identity()
    registered = (await app.client.post("/auth/register", json={"username": username, "email": email})).json()
    unverified = await login(app, privy, privy_id(), [email_account(email.upper(), verified=False)])
    assert unverified["is_new_user"] is True and unverified["user_id"] != registered["user_id"]
    assert unverified["email"].endswith("@privy.user")  # the address belongs to someone else
    sub = privy_id()
    linked = await login(app, privy, sub, [email_account(email.upper())])
    assert (linked["is_new_user"], linked["user_id"], linked["message"]) == (
        False, registered["user_id"], "Login successful")
    [row] = await rows(app_env["database_url"], "SELECT privy_user_id FROM users WHERE id = :i",
                       i=registered["user_id"])
    assert row["privy_user_id"] == sub
    # a second Privy identity with the same verified email cannot take the linked account over
    other = await login(app, privy, privy_id(), [email_account(email)])
    assert other["user_id"] != registered["user_id"]


async def test_no_account_is_matched_by_username(app: Running, privy: FakePrivy) -> None:
    username, email = identity()
    victim = (await app.client.post("/auth/register", json={"username": username, "email": email})).json()
    attacker = await login(app, privy, privy_id(), [{"type": "github", "name": username}])
    assert attacker["user_id"] != victim["user_id"] and attacker["auth_method"] == "github"


async def test_two_concurrent_first_logins_make_one_user(app: Running, privy: FakePrivy,
                                                         app_env: dict[str, str]) -> None:
    sub, email = privy_id(), identity()[1]
    answers = await asyncio.gather(*(app.client.post("/auth", json=body(
        sub, identity_token=privy.token(sub, linked_accounts=[email_account(email)]))) for _ in range(2)))
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert answers[0].json()["user_id"] == answers[1].json()["user_id"]
    assert sorted(a.json()["is_new_user"] for a in answers) == [False, True]
    assert len(await rows(app_env["database_url"], "SELECT id FROM users WHERE privy_user_id = :p", p=sub)) == 1


async def test_the_sixth_login_revokes_the_first_and_login_keys_expire(app: Running, privy: FakePrivy,
                                                                        app_env: dict[str, str]) -> None:
    sub = privy_id()
    keys = [(await login(app, privy, sub))["api_key"] for _ in range(6)]
    first = await app.client.get("/user/balance", headers=bearer(keys[0]))
    assert (first.status_code, first.json()) == (401, {"detail": "Invalid API key"})
    for key in keys[1:]:
        assert (await app.client.get("/user/balance", headers=bearer(key))).status_code == 200
    user_id = (await login(app, privy, sub, auto_create_api_key=False))["user_id"]
    login_keys = await rows(app_env["database_url"], "SELECT is_active, expires_at, created_at, name FROM api_keys "
                            "WHERE user_id = :i AND kind = 'login' ORDER BY id", i=user_id)
    assert [bool(k["is_active"]) for k in login_keys] == [False, True, True, True, True, True]
    for k in login_keys:
        lifetime = as_time(k["expires_at"]) - as_time(k["created_at"])
        assert lifetime.days == 30 and k["name"].startswith("Login (privy) ")


async def test_blocked_domains_are_400_and_disposable_ones_make_a_bot(app_env: dict[str, str],
                                                                       privy: FakePrivy) -> None:
    env = dict(app_env)
    async with running_app(env.pop("database_url"), BLOCKED_EMAIL_DOMAINS="blocked.example", **privy.env("pem"),
                           **RELAXED, **env) as r:
        sub = privy_id()
        resp = await r.client.post("/auth", json=body(sub, identity_token=privy.token(
            sub, linked_accounts=[email_account(f"{tag()}@blocked.example")])))
        assert (resp.status_code, resp.json()) == (400, {"detail": "This email address is not allowed"})
        bot = await login(r, privy, privy_id(), [email_account(f"{tag()}@yopmail.com")])
        assert bot["subscription_status"] == "bot" and bot["credits"] == 0


async def test_jwks_mode_fetches_once_and_refetches_on_an_unknown_kid(app_env: dict[str, str]) -> None:
    issuer = await FakePrivy(kid="k1").start()
    try:
        env = dict(app_env)
        async with running_app(env.pop("database_url"), **issuer.env("jwks"), **RELAXED, **env) as r:
            sub = privy_id()
            await login(r, issuer, sub)
            await login(r, issuer, sub)
            assert issuer.jwks_requests == 1
            issuer.kid = "k2"  # Privy rotated its key: same key material, new kid
            await asyncio.sleep(1.1)  # the refetch throttle
            await login(r, issuer, sub)
            assert issuer.jwks_requests == 2
            resp = await r.client.post("/auth", json=body(sub, identity_token=issuer.token(sub, kid="unknown")))
            assert (resp.status_code, resp.json()) == (401, INVALID)
    finally:
        await issuer.stop()


async def test_privy_not_configured_is_503(app_env: dict[str, str]) -> None:
    env = dict(app_env)
    async with running_app(env.pop("database_url"), **RELAXED, **env) as r:
        resp = await r.client.post("/auth", json=body(privy_id(), identity_token="x.y.z"))
        assert resp.status_code == 503 and resp.json()["detail"] == "Privy login is not configured"


async def test_bad_requests_are_422(app: Running) -> None:
    for bad in ({"user": {"id": ""}}, {"user": {"id": "did:privy:x"}, "environment_tag": "prod"}, {}):
        resp = await app.client.post("/auth", json=bad)
        assert resp.status_code == 422, (bad, resp.text)


async def test_an_unexpected_failure_is_500_without_the_exception_text(app: Running, privy: FakePrivy) -> None:
    import dataclasses

    class Boom:
        async def __call__(self, **_: Any) -> None:
            raise RuntimeError("SELECT secret FROM somewhere")

    bundle = app.app.state.areas["accounts"]
    app.app.state.areas["accounts"] = dataclasses.replace(bundle, privy_login=Boom())
    try:
        resp = await app.client.post("/auth", json=body(privy_id(), identity_token="x"))
    finally:
        app.app.state.areas["accounts"] = bundle
    assert resp.status_code == 500 and "secret" not in resp.text
    assert resp.json()["detail"] == "Authentication failed" and resp.json()["request_id"]


async def test_the_login_limit_is_shared_by_privy_and_password_logins(app_env: dict[str, str],
                                                                       privy: FakePrivy) -> None:
    env = dict(app_env)
    async with running_app(env.pop("database_url"), AUTH_LOGIN_LIMIT="4/900", **privy.env("pem"), **env) as r:
        sub = privy_id()
        for _ in range(2):
            await login(r, privy, sub)
        for _ in range(2):
            failed = await r.client.post("/auth/login", json={"email": identity()[1], "password": "whatever1"})
            assert failed.status_code == 401
        over = await r.client.post("/auth", json=body(sub, identity_token=privy.token(sub)))
        assert over.status_code == 429 and over.json()["detail"] == "Rate limit exceeded"
        assert 1 <= int(over.headers["Retry-After"]) <= 900
        also = await r.client.post("/auth/login", json={"email": identity()[1], "password": "whatever1"})
        assert also.status_code == 429


async def test_a_new_privy_account_gets_one_welcome_email(app_env: dict[str, str], privy: FakePrivy) -> None:
    from tests.fakes.smtp import FakeSmtp

    smtp = FakeSmtp().start()
    try:
        env = dict(app_env)
        async with running_app(env.pop("database_url"), **privy.env("pem"), **smtp.env(), **RELAXED, **env) as r:
            sub, email = privy_id(), identity()[1]
            await login(r, privy, sub, [email_account(email)])
            await login(r, privy, sub, [email_account(email)])
            await login(r, privy, privy_id(), [{"type": "phone", "phone_number": "+15550199"}])  # no address
            await smtp.wait_for(1)
            await asyncio.sleep(0.3)
            assert [(m["To"], m["Subject"]) for m in smtp.messages] == [(email, "Welcome to Gatewayz")]
    finally:
        smtp.stop()
