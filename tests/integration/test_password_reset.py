"""Password reset done for real (#1647, #1648), end to end through a fake SMTP server, on SQLite and
on PostgreSQL + Redis."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from adapters.memory.clock import FixedClock
from tests.fakes.smtp import FakeSmtp, text_body
from tests.harness import Running, bearer, running_app
from tests.integration.accounts_kit import RELAXED, deployment, identity, rows

SENT = {"message": "If an account with that email exists, a password reset link has been sent."}
PASSWORD = "original password"


@pytest.fixture(params=["sqlite", "postgres"])
def app_env(request: pytest.FixtureRequest) -> dict[str, str]:
    return deployment(request)


@pytest.fixture
def smtp() -> Iterator[FakeSmtp]:
    server = FakeSmtp().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def app(app_env: dict[str, str], smtp: FakeSmtp) -> AsyncIterator[Running]:
    env = dict(app_env)
    async with running_app(env.pop("database_url"), PUBLIC_APP_URL="https://app.gatewayz.test", **smtp.env(),
                           **RELAXED, **env) as r:
        yield r


async def account(app: Running) -> tuple[int, str, str]:
    """(user id, email, standard key) of a fresh account with PASSWORD."""
    username, email = identity()
    body = (await app.client.post("/auth/register", json={"username": username, "email": email,
                                                          "password": PASSWORD})).json()
    return body["user_id"], email, body["api_key"]


async def reset_link(app: Running, smtp: FakeSmtp, email: str) -> str:
    before = len(smtp.messages)
    resp = await app.client.post("/auth/password-reset", params={"email": email})
    assert (resp.status_code, resp.json()) == (200, SENT)
    count = before + 1
    while True:  # other mail (the welcome) may arrive in between
        for message in (await smtp.wait_for(count))[before:]:
            if message["To"] == email and message["Subject"] == "Reset your Gatewayz password":
                found = re.search(r"https://app\.gatewayz\.test/reset-password\?token=\S+", text_body(message))
                assert found, text_body(message)
                return found.group(0)
        count += 1


def token_of(link: str) -> str:
    return unquote(parse_qs(urlsplit(link).query)["token"][0])


async def login(app: Running, email: str, password: str) -> int:
    return (await app.client.post("/auth/login", json={"email": email, "password": password})).status_code


async def test_the_whole_flow_through_smtp(app: Running, smtp: FakeSmtp, app_env: dict[str, str]) -> None:
    user_id, email, standard_key = await account(app)
    welcome = await smtp.wait_for(1)
    assert any(m["To"] == email and m["Subject"] == "Welcome to Gatewayz" for m in welcome)
    session = (await app.client.post("/auth/login", json={"email": email, "password": PASSWORD})).json()["api_key"]
    link = await reset_link(app, smtp, email)
    token = token_of(link)
    assert len(token) >= 43
    resp = await app.client.post("/auth/reset-password", params={"token": token},
                                 json={"new_password": "a brand new password"})
    assert (resp.status_code, resp.json()) == (200, {"message": "Password reset successfully"})
    assert await login(app, email, PASSWORD) == 401
    assert await login(app, email, "a brand new password") == 200
    # the session's login key ended; the app credential (standard key) stays
    assert (await app.client.get("/user/balance", headers=bearer(session))).status_code == 401
    assert (await app.client.get("/user/balance", headers=bearer(standard_key))).status_code == 200
    changed = await smtp.wait_for(len(smtp.messages))
    assert any(m["To"] == email and m["Subject"] == "Your Gatewayz password was changed" for m in changed)
    again = await app.client.post("/auth/reset-password", params={"token": token}, json={"new_password": "x" * 12})
    assert (again.status_code, again.json()) == (400, {"detail": "Invalid or expired reset token"})
    # the database holds no token and no password in clear
    dump = str(await rows(app_env["database_url"], "SELECT * FROM password_reset_tokens WHERE user_id = :i",
                          i=user_id)) + str(await rows(app_env["database_url"], "SELECT * FROM users WHERE id = :i",
                                                       i=user_id))
    assert token not in dump and "a brand new password" not in dump and PASSWORD not in dump
    [welcomed] = await rows(app_env["database_url"], "SELECT welcome_email_sent FROM users WHERE id = :i", i=user_id)
    assert bool(welcomed["welcome_email_sent"])


async def test_known_and_unknown_emails_get_the_same_answer_and_only_known_ones_mail(
        app: Running, smtp: FakeSmtp) -> None:
    _, email, _ = await account(app)
    await smtp.wait_for(1)
    before = len(smtp.messages)
    unknown = await app.client.post("/auth/password-reset", params={"email": identity()[1]})
    by_body = await app.client.post("/auth/password-reset", json={"email": email})
    assert (unknown.status_code, unknown.json()) == (by_body.status_code, by_body.json()) == (200, SENT)
    await smtp.wait_for(before + 1)
    await asyncio.sleep(0.2)
    assert [m["To"] for m in smtp.messages[before:]] == [email]
    missing = await app.client.post("/auth/password-reset")
    assert missing.status_code == 422 and "email" in missing.text


async def test_a_token_is_consumed_once_under_ten_concurrent_uses(app: Running, smtp: FakeSmtp) -> None:
    _, email, _ = await account(app)
    token = token_of(await reset_link(app, smtp, email))
    answers = await asyncio.gather(*(app.client.post(
        "/auth/reset-password", params={"token": token}, json={"new_password": f"password number {i}"})
        for i in range(10)))
    assert sorted(a.status_code for a in answers) == [200] + [400] * 9
    winner = next(i for i, a in enumerate(answers) if a.status_code == 200)
    assert await login(app, email, f"password number {winner}") == 200


async def test_a_new_request_invalidates_the_earlier_token(app: Running, smtp: FakeSmtp) -> None:
    _, email, _ = await account(app)
    first = token_of(await reset_link(app, smtp, email))
    second = token_of(await reset_link(app, smtp, email))
    old = await app.client.post("/auth/reset-password", params={"token": first}, json={"new_password": "x" * 10})
    assert old.status_code == 400
    new = await app.client.post("/auth/reset-password", params={"token": second}, json={"new_password": "x" * 10})
    assert new.status_code == 200


async def test_an_expired_token_is_400_and_stays_unused(app_env: dict[str, str], smtp: FakeSmtp) -> None:
    clock = FixedClock()
    env = dict(app_env)
    async with running_app(env.pop("database_url"), clock=clock, PUBLIC_APP_URL="https://app.gatewayz.test",
                           **smtp.env(), **RELAXED, **env) as app:
        user_id, email, _ = await account(app)
        token = token_of(await reset_link(app, smtp, email))
        clock.advance(3601)
        resp = await app.client.post("/auth/reset-password", params={"token": token}, json={"new_password": "x" * 9})
        assert (resp.status_code, resp.json()) == (400, {"detail": "Reset token has expired"})
        [row] = await rows(app_env["database_url"], "SELECT used_at, expires_at, created_at FROM password_reset_tokens "
                           "WHERE user_id = :i", i=user_id)
        assert row["used_at"] is None
        assert await login(app, email, PASSWORD) == 200
        clock.advance(-2)  # back inside the hour: the expired attempt did not consume the token
        ok = await app.client.post("/auth/reset-password", params={"token": token}, json={"new_password": "y" * 9})
        assert ok.status_code == 200, ok.text


async def test_the_new_password_is_required_and_bounded(app: Running) -> None:
    for body in ({}, {"new_password": "short"}, {"new_password": "x" * 129}):
        resp = await app.client.post("/auth/reset-password", params={"token": "t"}, json=body)
        assert resp.status_code == 422 and "new_password" in resp.text, body
    assert (await app.client.post("/auth/reset-password", json={"new_password": "x" * 9})).status_code == 422


async def test_reset_requests_share_one_limit_per_address(app_env: dict[str, str], smtp: FakeSmtp) -> None:
    env = dict(app_env)
    async with running_app(env.pop("database_url"), **smtp.env(), **env) as app:  # the default 3/3600
        assert (await app.client.post("/auth/password-reset", params={"email": identity()[1]})).status_code == 200
        assert (await app.client.post("/auth/reset-password", params={"token": "x"},
                                      json={"new_password": "x" * 9})).status_code == 400
        assert (await app.client.post("/auth/password-reset", params={"email": identity()[1]})).status_code == 200
        over = await app.client.post("/auth/password-reset", params={"email": identity()[1]})
        assert over.status_code == 429 and over.json()["error"] == "Rate limit exceeded"


async def test_three_resets_per_hour_per_email_then_silence(app: Running, smtp: FakeSmtp) -> None:
    _, email, _ = await account(app)
    await smtp.wait_for(1)
    before = len(smtp.messages)
    for _ in range(5):
        resp = await app.client.post("/auth/password-reset", params={"email": email})
        assert (resp.status_code, resp.json()) == (200, SENT)
    await smtp.wait_for(before + 3)
    await asyncio.sleep(0.3)
    assert len([m for m in smtp.messages[before:] if m["To"] == email]) == 3


async def test_an_email_change_tells_the_old_address(app: Running, smtp: FakeSmtp) -> None:
    _, email, key = await account(app)
    new_email = identity()[1]
    resp = await app.client.put("/user/profile", json={"email": new_email.upper()}, headers=bearer(key))
    assert resp.status_code == 200 and resp.json()["email"] == new_email
    count = 1
    while True:
        messages = await smtp.wait_for(count)
        told = [m for m in messages if m["Subject"] == "Your Gatewayz email address was changed"]
        if told:
            break
        count += 1
    assert told[0]["To"] == email and new_email in text_body(told[0])
    assert await login(app, new_email, PASSWORD) == 200 and await login(app, email, PASSWORD) == 401
