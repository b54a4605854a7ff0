"""Authentication and the admin check through the HTTP app, on SQLite and on PostgreSQL + Redis."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from litestar.connection import ASGIConnection
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.http.guards import auth_guard, presented_key
from adapters.postgres.tables import audit_log, users
from domain.audit import UNAUTHORIZED_ADMIN_ACCESS
from domain.errors import AuthenticationRequired, Forbidden, InvalidApiKey
from tests.conftest import KEY_SECRET
from tests.harness import Running, bearer, running_app

COUNT = "/admin/users/count"
API_KEY_REQUIRED = {"detail": "API key required"}
INVALID_API_KEY = {"detail": "Invalid API key"}


@pytest.fixture(params=["sqlite", "postgres"])
def app_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """What `running_app` needs for each deployment: the embedded SQLite, or PostgreSQL with Redis."""
    if request.param == "sqlite":
        return {"database_url": request.getfixturevalue("sqlite_url")}
    return {"database_url": request.getfixturevalue("postgres_url"), "REDIS_URL": request.getfixturevalue("redis_url"),
            "REDIS_PREFIX": request.getfixturevalue("redis_prefix")}


@pytest.fixture
async def app(app_env: dict[str, str]) -> AsyncIterator[Running]:
    env = dict(app_env)
    async with running_app(env.pop("database_url"), **env) as r:
        yield r


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}@example.com"


NO_KEY = [{}, {"Authorization": "Bearer "}, {"Authorization": "Bearer"}, {"Authorization": "Basic dXNlcjpwYXNz"},
          {"x-api-key": ""}]
NOT_A_KEY = ["garbage", "gw_live_short", "gw_live_" + "a" * 43, "sk-" + "a" * 48, "gw_live_" + "a" * 42 + "é"]


async def test_a_request_without_a_key_is_401_api_key_required(app: Running) -> None:
    for headers in NO_KEY:
        resp = await app.client.get(COUNT, headers=headers)
        assert (resp.status_code, resp.json()) == (401, API_KEY_REQUIRED), headers


async def test_a_garbage_or_unknown_key_is_401_invalid_api_key(app: Running) -> None:
    await app.user(unique("someone"), admin=True)
    for presented in NOT_A_KEY:
        for headers in (bearer(presented), {"x-api-key": presented}):
            resp = await app.client.get(COUNT, headers={k: v.encode() for k, v in headers.items()})
            assert (resp.status_code, resp.json()) == (401, INVALID_API_KEY), headers


async def test_an_admin_key_is_admitted_by_bearer_or_x_api_key(app: Running) -> None:
    _, key = await app.user(unique("root"), admin=True)
    for headers in (bearer(key), {"Authorization": f"bearer {key}"}, {"x-api-key": key}):
        resp = await app.client.get(COUNT, headers=headers)
        assert resp.status_code == 200, (headers, resp.text)
        assert resp.json()["count"] >= 1


async def test_the_bearer_header_is_read_before_x_api_key(app: Running) -> None:
    _, key = await app.user(unique("root"), admin=True)
    resp = await app.client.get(COUNT, headers={"Authorization": "Bearer gw_live_" + "z" * 43, "x-api-key": key})
    assert resp.status_code == 401


async def test_a_non_admin_on_an_admin_route_is_403_and_recorded_in_the_audit_log(app: Running) -> None:
    user_id, key = await app.user(unique("mallory"))
    resp = await app.client.get(COUNT, headers=bearer(key))
    assert resp.status_code == 403
    assert resp.json() == {"detail": "Admin access required"}
    engine: AsyncEngine = await app.service("engine")
    async with engine.connect() as conn:
        rows = (await conn.execute(select(audit_log).where(audit_log.c.user_id == user_id,
                                                           audit_log.c.event_type == UNAUTHORIZED_ADMIN_ACCESS))
                ).mappings().all()
    assert len(rows) == 1
    assert rows[0]["api_key_id"] is not None
    assert rows[0]["details"]["method"] == "GET"
    assert rows[0]["details"]["path"] == COUNT


async def test_a_revoked_key_is_refused_on_the_next_request_although_it_was_cached(app: Running) -> None:
    user_id, _ = await app.user(unique("rev"), admin=True)
    issued = await (await app.service("issue_api_key"))(user_id, name="to-revoke")
    assert (await app.client.get(COUNT, headers=bearer(issued.plaintext))).status_code == 200
    cache = await app.service("key_directory")
    assert len(cache) >= 1  # the key is cached now
    await (await app.service("revoke_api_key"))(issued.key.id)
    resp = await app.client.get(COUNT, headers=bearer(issued.plaintext))
    assert resp.status_code == 401
    assert resp.json() == INVALID_API_KEY


async def test_an_expired_key_is_401_invalid_api_key(app: Running) -> None:
    user_id, _ = await app.user(unique("old"), admin=True)
    issued = await (await app.service("issue_api_key"))(user_id, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    resp = await app.client.get(COUNT, headers=bearer(issued.plaintext))
    assert (resp.status_code, resp.json()) == (401, INVALID_API_KEY)


async def test_the_key_of_an_inactive_user_is_401_invalid_api_key(app: Running) -> None:
    user_id, key = await app.user(unique("inactive"), admin=True)
    engine: AsyncEngine = await app.service("engine")
    async with engine.begin() as conn:
        await conn.execute(update(users).where(users.c.id == user_id).values(is_active=False))
    resp = await app.client.get(COUNT, headers=bearer(key))
    assert (resp.status_code, resp.json()) == (401, INVALID_API_KEY)


async def test_the_database_holds_no_plaintext_key(app: Running) -> None:
    user_id, first = await app.user(unique("secret"), admin=True, credits=3)
    second = (await (await app.service("issue_api_key"))(user_id, name="second")).plaintext
    await app.client.get(COUNT, headers=bearer(first))
    engine: AsyncEngine = await app.service("engine")
    async with engine.connect() as conn:
        dump = []
        for table in ("users", "api_keys", "credit_transactions", "audit_log"):
            dump.extend(str(tuple(row)) for row in await conn.execute(text(f"SELECT * FROM {table}")))
        hashes = set((await conn.execute(text("SELECT key_hash FROM api_keys"))).scalars())
    everything = "\n".join(dump)
    for key in (first, second):
        assert key not in everything
        assert key[len("gw_live_"):] not in everything
        assert hmac.new(KEY_SECRET.encode(), key.encode(), hashlib.sha256).hexdigest() in hashes


async def test_a_revocation_in_one_process_reaches_the_others_cache(postgres_url: str, redis_url: str,
                                                                    redis_prefix: str) -> None:
    env = {"REDIS_URL": redis_url, "REDIS_PREFIX": redis_prefix}
    async with running_app(postgres_url, **env) as a, running_app(postgres_url, **env) as b:
        user_id, _ = await a.user(unique("multi"), admin=True)
        issued = await (await a.service("issue_api_key"))(user_id, name="shared")
        assert (await a.client.get(COUNT, headers=bearer(issued.plaintext))).status_code == 200
        await (await b.service("revoke_api_key"))(issued.key.id)
        status = 200
        for _ in range(100):  # pub/sub delivery is asynchronous: allow it a moment, not a TTL
            status = (await a.client.get(COUNT, headers=bearer(issued.plaintext))).status_code
            if status == 401:
                break
            await asyncio.sleep(0.02)
        assert status == 401


def connection(headers: dict[str, str], *, admin_api_key: str | None = None) -> ASGIConnection[Any, Any, Any, Any]:
    auth = SimpleNamespace(admin_api_key=admin_api_key)  # the guard's AuthServices bundle
    return ASGIConnection({  # type: ignore[arg-type]
        "type": "http", "method": "GET", "path": "/", "query_string": b"", "state": {},
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "litestar_app": SimpleNamespace(state=SimpleNamespace(auth=auth)),
    })


@pytest.mark.parametrize(("headers", "expected"), [
    ({}, None),
    ({"Authorization": "Bearer gw_live_abc"}, "gw_live_abc"),
    ({"Authorization": "bearer   gw_live_abc  "}, "gw_live_abc"),
    ({"Authorization": "BEARER gw_live_abc"}, "gw_live_abc"),
    ({"Authorization": "Bearer "}, None),
    ({"Authorization": "Token gw_live_abc"}, None),
    ({"Authorization": "Basic dXNlcjpwYXNz", "x-api-key": "from-header"}, "from-header"),
    ({"x-api-key": "from-header"}, "from-header"),
    ({"x-api-key": ""}, None),
    ({"Authorization": "Bearer first", "x-api-key": "second"}, "first"),
])
def test_the_presented_key_is_the_bearer_token_else_x_api_key(headers: dict[str, str], expected: str | None) -> None:
    assert presented_key(connection(headers)) == expected


def handler(auth: str | None) -> Any:
    return SimpleNamespace(opt={} if auth is None else {"auth": auth})


async def test_the_env_key_policy_admits_exactly_the_configured_admin_api_key() -> None:
    secret = "admin-env-key-123"
    await auth_guard(connection(bearer(secret), admin_api_key=secret), handler("env_key"))
    for wrong in ("admin-env-key-12", "admin-env-key-1234", "ADMIN-ENV-KEY-123", "x"):
        with pytest.raises(InvalidApiKey):
            await auth_guard(connection(bearer(wrong), admin_api_key=secret), handler("env_key"))
    with pytest.raises(AuthenticationRequired):
        await auth_guard(connection({}, admin_api_key=secret), handler("env_key"))


async def test_the_env_key_policy_admits_nobody_when_no_admin_api_key_is_configured() -> None:
    for presented in ("", "None", "anything"):
        with pytest.raises((InvalidApiKey, AuthenticationRequired)):
            await auth_guard(connection(bearer(presented) if presented else {}), handler("env_key"))


@pytest.mark.parametrize("auth", [None, "", "nobody", "PUBLIC", "Admin"])
async def test_a_route_without_a_known_policy_admits_nobody(auth: str | None) -> None:
    with pytest.raises(Forbidden):
        await auth_guard(connection(bearer("gw_live_" + "a" * 43), admin_api_key="k"), handler(auth))
