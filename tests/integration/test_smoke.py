from tests.harness import bearer, running_app


async def test_admin_route_needs_admin_role_on_sqlite(sqlite_url: str) -> None:
    async with running_app(sqlite_url) as r:
        _, admin = await r.user("root@example.com", admin=True)
        _, user = await r.user("u@example.com")
        assert (await r.client.get("/admin/users/count", headers=bearer(admin))).json()["count"] == 2
        assert (await r.client.get("/admin/users/count", headers=bearer(user))).status_code == 403
        assert (await r.client.get("/admin/users/count")).json() == {"detail": "API key required"}


async def test_admin_route_needs_admin_role_on_postgres(postgres_url: str, redis_url: str) -> None:
    async with running_app(postgres_url, REDIS_URL=redis_url) as r:
        _, admin = await r.user("root-pg@example.com", admin=True)
        resp = await r.client.get("/admin/users?email=ROOT-PG", headers=bearer(admin))
        assert resp.status_code == 200, resp.text
        assert [u["email"] for u in resp.json()["users"]] == ["root-pg@example.com"]
        ready = await r.client.get("/health/ready")
        assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}
