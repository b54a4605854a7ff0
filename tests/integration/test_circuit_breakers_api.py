"""The circuit breaker endpoints (#1708-#1711): public reads, admin-only resets, shared state."""

from __future__ import annotations

from tests.harness import bearer, running_app


async def trip(store: object, provider: str) -> None:
    for _ in range(5):
        await store.record(provider, False)  # type: ignore[attr-defined]


async def test_reads_are_public_and_resets_need_the_admin_role(sqlite_url: str) -> None:
    async with running_app(sqlite_url) as r:
        _, admin = await r.user("root@example.com", admin=True)
        _, user = await r.user("u@example.com")
        await trip(await r.service("breakers"), "alpha")

        listing = await r.client.get("/circuit-breakers")
        assert listing.status_code == 200, listing.text
        body = listing.json()
        alpha = body["circuit_breakers"]["alpha"]
        assert alpha["state"] == "open" and alpha["failure_count"] == 5 and alpha["recent_requests"] == 5
        assert alpha["failure_rate"] == 1.0 and 0 < alpha["seconds_until_retry"] <= 60
        assert alpha["opened_at"] is not None and alpha["last_failure_time"] is not None
        assert body["open_count"] == 1 and body["total_count"] == body["open_count"] + body["closed_count"] \
            + body["half_open_count"]

        one = await r.client.get("/circuit-breakers/alpha")
        assert one.status_code == 200 and one.json() == alpha
        unseen = (await r.client.get("/circuit-breakers/never-seen")).json()
        assert unseen["state"] == "closed" and unseen["opened_at"] is None

        assert (await r.client.post("/circuit-breakers/alpha/reset")).status_code == 401
        assert (await r.client.post("/circuit-breakers/reset-all")).status_code == 401
        assert (await r.client.post("/circuit-breakers/alpha/reset", headers=bearer(user))).status_code == 403
        assert (await r.client.post("/circuit-breakers/reset-all", headers=bearer(user))).status_code == 403
        assert (await r.client.get("/circuit-breakers/alpha")).json()["state"] == "open"

        reset = await r.client.post("/circuit-breakers/alpha/reset", headers=bearer(admin))
        assert reset.status_code == 200, reset.text
        assert reset.json()["success"] is True and reset.json()["state"]["state"] == "closed"
        assert reset.json()["message"] == "Circuit breaker for 'alpha' has been reset"
        assert (await r.client.get("/circuit-breakers/alpha")).json()["failure_count"] == 0
        metrics = (await r.client.get("/metrics")).text
        assert 'circuit_breaker_state{provider="alpha"} 0.0' in metrics

        missing = await r.client.post("/circuit-breakers/nobody/reset", headers=bearer(admin))
        assert missing.status_code == 404 and "nobody" in missing.json()["detail"]


async def test_reset_all_closes_every_breaker(sqlite_url: str) -> None:
    async with running_app(sqlite_url) as r:
        _, admin = await r.user("root@example.com", admin=True)
        store = await r.service("breakers")
        await trip(store, "alpha")
        await trip(store, "beta")
        resp = await r.client.post("/circuit-breakers/reset-all", headers=bearer(admin))
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["success"] is True and body["message"] == "All circuit breakers have been reset"
        assert body["reset_count"] == len(body["states"]) >= 2
        assert {s["state"] for s in body["states"].values()} == {"closed"}
        assert (await r.client.get("/circuit-breakers")).json()["open_count"] == 0


async def test_state_recorded_by_one_process_is_seen_by_another(sqlite_url: str, redis_url: str,
                                                                redis_prefix: str) -> None:
    env = {"REDIS_URL": redis_url, "REDIS_PREFIX": redis_prefix}
    async with running_app(sqlite_url, **env) as a, running_app(sqlite_url, **env) as b:
        assert await a.service("breakers") is not await b.service("breakers")
        await trip(await a.service("breakers"), "alpha")
        seen = (await b.client.get("/circuit-breakers/alpha")).json()
        assert seen["state"] == "open" and seen["failure_count"] == 5
        assert (await b.client.get("/circuit-breakers")).json()["circuit_breakers"]["alpha"]["state"] == "open"

        _, admin = await b.user("root@example.com", admin=True)
        assert (await b.client.post("/circuit-breakers/alpha/reset", headers=bearer(admin))).status_code == 200
        assert (await a.client.get("/circuit-breakers/alpha")).json()["state"] == "closed"
