"""The caller's own keys and the key restrictions checked in the auth step, through HTTP on SQLite
and on PostgreSQL + Redis (where a second gateway process must see each change at once)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.memory.clock import FixedClock
from tests.harness import Running, bearer, running_app
from tests.integration.accounts_kit import RELAXED, deployment, identity, rows

KEYS = "/user/api-keys"


@pytest.fixture(params=["sqlite", "postgres"])
def app_env(request: pytest.FixtureRequest) -> dict[str, str]:
    return deployment(request)


@pytest.fixture
async def app(app_env: dict[str, str]) -> AsyncIterator[Running]:
    env = dict(app_env)
    async with running_app(env.pop("database_url"), **RELAXED, **env) as r:
        yield r


async def registered(app: Running, password: str | None = None) -> tuple[int, str]:
    username, email = identity()
    fields = {"username": username, "email": email, **({"password": password} if password else {})}
    resp = await app.client.post("/auth/register", json=fields)
    assert resp.status_code == 200, resp.text
    return resp.json()["user_id"], resp.json()["api_key"]


async def create(app: Running, key: str, **fields: object) -> dict[str, object]:
    resp = await app.client.post(KEYS, json=fields, headers=bearer(key))
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


async def test_create_list_and_the_plaintext_shown_once(app: Running, app_env: dict[str, str]) -> None:
    user_id, primary = await registered(app)
    made = await create(app, primary, name="ci", environment_tag="test", scopes=["inference"], expires_in_days=7)
    secret = str(made["api_key"])
    assert secret.startswith("gw_test_") and made["message"] == "Store this key now; it will not be shown again"
    assert (made["name"], made["kind"], made["scopes"], made["is_primary"]) == ("ci", "standard", ["inference"], False)
    assert made["display"] == f"{secret[:12]}…{secret[-4:]}" and made["expires_at"] is not None
    listed = (await app.client.get(KEYS, headers=bearer(primary))).json()
    assert listed["total"] == 2 and [k["name"] for k in listed["keys"]] == ["Primary Key", "ci"]
    assert secret not in str(listed) and "key_hash" not in str(listed) and "api_key" not in str(listed)
    dump = str(await rows(app_env["database_url"], "SELECT * FROM api_keys WHERE user_id = :i", i=user_id))
    assert secret not in dump and primary not in dump


async def test_bad_key_requests_are_422_naming_the_field(app: Running) -> None:
    _, primary = await registered(app)
    for body, field in (({"scopes": []}, "scopes"), ({"scopes": ["admin"]}, "scopes"),
                        ({"expires_in_days": 0}, "expires_in_days"), ({"ip_allowlist": ["nope"]}, "ip_allowlist"),
                        ({"domain_referrers": ["bad host!"]}, "domain_referrers"), ({"name": ""}, "name"),
                        ({"ip_allowlist": ["10.0.0.1"] * 51}, "ip_allowlist")):
        resp = await app.client.post(KEYS, json=body, headers=bearer(primary))
        assert resp.status_code == 422 and field in resp.text, (body, resp.text)


async def test_an_inference_only_key_cannot_use_account_routes(app: Running) -> None:
    _, primary = await registered(app)
    inference_only = str((await create(app, primary, scopes=["inference"]))["api_key"])
    for method, path in (("GET", "/user/balance"), ("GET", KEYS), ("GET", "/user/profile"),
                         ("DELETE", "/user/account?confirm=true")):
        resp = await app.client.request(method, path, headers=bearer(inference_only))
        assert (resp.status_code, resp.json()) == (403, {"detail": "API key lacks the 'account' scope"}), path
    account_only = str((await create(app, primary, scopes=["account"]))["api_key"])
    chat = await app.client.post("/v1/chat/completions", headers=bearer(account_only),
                                 json={"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
    assert chat.status_code == 403 and chat.json()["detail"] == "API key lacks the 'inference' scope"


async def test_rotation_with_grace_on_a_fixed_clock(app_env: dict[str, str]) -> None:
    clock = FixedClock()
    env = dict(app_env)
    async with running_app(env.pop("database_url"), clock=clock, **RELAXED, **env) as app:
        _, primary = await registered(app)
        made = await create(app, primary, name="app")
        old = str(made["api_key"])
        rotated = await app.client.post(f"{KEYS}/{made['id']}/rotate", json={"grace_seconds": 600},
                                        headers=bearer(primary))
        assert rotated.status_code == 200, rotated.text
        body = rotated.json()
        new = body["api_key"]
        assert (body["id"], body["name"]) == (made["id"], "app") and new != old
        assert body["previous_key_valid_until"] is not None and body["rotated_at"] is not None
        for key in (old, new):
            assert (await app.client.get("/user/balance", headers=bearer(key))).status_code == 200
        clock.advance(601)
        assert (await app.client.get("/user/balance", headers=bearer(old))).status_code == 401
        assert (await app.client.get("/user/balance", headers=bearer(new))).status_code == 200
        at_once = await app.client.post(f"{KEYS}/{made['id']}/rotate", headers=bearer(primary))
        assert at_once.json()["previous_key_valid_until"] is None
        assert (await app.client.get("/user/balance", headers=bearer(new))).status_code == 401
        assert (await app.client.get("/user/balance", headers=bearer(at_once.json()["api_key"]))).status_code == 200


async def test_revoke_another_users_key_and_the_last_way_in(app: Running) -> None:
    _, mine = await registered(app)
    _, theirs = await registered(app)
    their_key_id = (await app.client.get(KEYS, headers=bearer(theirs))).json()["keys"][0]["id"]
    for method, path in (("DELETE", f"{KEYS}/{their_key_id}"), ("POST", f"{KEYS}/{their_key_id}/rotate")):
        resp = await app.client.request(method, path, headers=bearer(mine))
        assert (resp.status_code, resp.json()) == (404, {"detail": "API key not found"}), path
    my_key_id = (await app.client.get(KEYS, headers=bearer(mine))).json()["keys"][0]["id"]
    last = await app.client.delete(f"{KEYS}/{my_key_id}", headers=bearer(mine))
    assert (last.status_code, last.json()) == (
        409, {"detail": "Cannot revoke your only way to sign in; create another key first"})
    spare = await create(app, mine, name="spare")
    done = await app.client.delete(f"{KEYS}/{my_key_id}", headers=bearer(str(spare["api_key"])))
    assert (done.status_code, done.json()) == (200, {"success": True, "message": "API key revoked", "id": my_key_id})
    assert (await app.client.get("/user/balance", headers=bearer(mine))).status_code == 401
    listed = (await app.client.get(KEYS, params={"include_revoked": "true"},
                                   headers=bearer(str(spare["api_key"])))).json()
    revoked = next(k for k in listed["keys"] if k["id"] == my_key_id)
    assert revoked["is_active"] is False and revoked["revoked_at"] is not None


async def test_a_user_with_a_password_may_revoke_the_last_key(app: Running) -> None:
    _, key = await registered(app, password="long enough")
    key_id = (await app.client.get(KEYS, headers=bearer(key))).json()["keys"][0]["id"]
    assert (await app.client.delete(f"{KEYS}/{key_id}", headers=bearer(key))).status_code == 200


async def test_the_ip_allowlist_with_a_trusted_proxy_and_a_spoofed_header(app_env: dict[str, str]) -> None:
    env = dict(app_env)
    # the test client's peer is 127.0.0.1: make it the trusted proxy
    async with running_app(env.pop("database_url"), TRUSTED_PROXIES="127.0.0.1", **RELAXED, **env) as app:
        _, primary = await registered(app)
        pinned = str((await create(app, primary, ip_allowlist=["203.0.113.0/24"]))["api_key"])
        allowed = await app.client.get("/user/balance", headers={**bearer(pinned), "X-Forwarded-For": "203.0.113.9"})
        assert allowed.status_code == 200
        spoofed = await app.client.get("/user/balance", headers={
            **bearer(pinned), "X-Forwarded-For": "203.0.113.9, 198.51.100.7"})  # the proxy saw 198.51.100.7
        assert (spoofed.status_code, spoofed.json()) == (403, {"detail": "IP address not allowed"})
        direct = await app.client.get("/user/balance", headers=bearer(pinned))
        assert direct.status_code == 403


async def test_domain_referrers(app: Running) -> None:
    _, primary = await registered(app)
    web = str((await create(app, primary, domain_referrers=["app.example.com", "*.example.org"]))["api_key"])
    for headers, status in (({"Origin": "https://app.example.com"}, 200),
                            ({"Referer": "https://deep.sub.example.org/page?x=1"}, 200),
                            ({"Origin": "https://example.org"}, 403),
                            ({"Origin": "https://app.example.com.evil.test"}, 403),
                            ({}, 403)):
        resp = await app.client.get("/user/balance", headers={**bearer(web), **headers})
        assert resp.status_code == status, headers
        if status == 403:
            assert resp.json() == {"detail": "Domain not allowed"}


async def test_more_than_the_cap_of_active_standard_keys_is_400(app_env: dict[str, str]) -> None:
    env = dict(app_env)
    async with running_app(env.pop("database_url"), MAX_KEYS_PER_USER="2", **RELAXED, **env) as app:
        _, primary = await registered(app)
        await create(app, primary, name="second")
        third = await app.client.post(KEYS, json={"name": "third"}, headers=bearer(primary))
        assert (third.status_code, third.json()) == (400, {"detail": "Maximum of 2 active API keys reached"})


async def test_last_used_at_shows_when_each_key_was_last_used(app: Running) -> None:
    _, primary = await registered(app)
    spare = await create(app, primary, name="spare")
    listed = (await app.client.get(KEYS, headers=bearer(primary))).json()["keys"]
    assert all(k["last_used_at"] is None for k in listed)  # written behind: nothing yet
    await (await app.service("key_usage")).flush()
    by_name = {k["name"]: k for k in (await app.client.get(KEYS, headers=bearer(primary))).json()["keys"]}
    assert by_name["Primary Key"]["last_used_at"] is not None
    assert by_name["spare"]["last_used_at"] is None  # never presented
    assert (await app.client.get(KEYS, headers=bearer(str(spare["api_key"])))).status_code == 200
    await (await app.service("key_usage")).flush()
    by_name = {k["name"]: k for k in (await app.client.get(KEYS, headers=bearer(primary))).json()["keys"]}
    assert by_name["spare"]["last_used_at"] is not None
