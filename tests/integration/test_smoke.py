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


async def test_user_details_show_keys_without_plaintext_and_the_users_recent_activity(sqlite_url: str) -> None:
    async with running_app(sqlite_url) as r:
        _, admin = await r.user("root@example.com", admin=True)
        user_id, key = await r.user("u@example.com", credits=3)
        body = (await r.client.get(f"/admin/users/{user_id}", headers=bearer(admin))).json()
        assert body["user"]["credits"] == 3 and body["user"]["email"] == "u@example.com"
        assert [k["last4"] for k in body["api_keys"]] == [key[-4:]] and key not in str(body)
        assert {e["event_type"] for e in body["recent_activity"]} == {"USER_CREATED", "API_KEY_CREATED"}
        assert [t["transaction_type"] for t in body["recent_transactions"]] == ["admin_credit"]
        assert body["recent_usage"] == []  # request rows (issue 14): none yet
        assert "password_hash" not in body["user"] and body["user"]["registration_date"]
        assert (await r.client.get("/admin/users/999", headers=bearer(admin))).status_code == 404
