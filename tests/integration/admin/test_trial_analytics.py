"""GET /admin/trial/analytics (#1607): the seed's figures from the trial columns (usage counted only
inside each trial's window), cached 300 s under `trial:analytics:summary`; an unreachable cache
answers uncached, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from dependency_injector import providers

from adapters.postgres.tables import chat_completion_requests, users
from adapters.redis.client import create_redis
from adapters.redis.result_cache import RedisResultCache
from gatewayz.app import create_app
from gatewayz.container import build_container
from gatewayz.settings import Settings
from tests.conftest import settings_env
from tests.harness import Running, bearer, lifespan
from tests.integration.admin.kit import insert_rows
from tests.services import free_port

PATH = "/admin/trial/analytics"


async def seed(r: Running) -> None:
    now = datetime.now(UTC)
    day = timedelta(days=1)
    base = dict(updated_at=now, trial_credits=Decimal("5"))
    await insert_rows(r, users, [
        dict(username="t_active", email="t1@x.org", created_at=now - day, trial_started_at=now - day,
             trial_expires_at=now + 2 * day, **base),
        dict(username="t_expired", email="t2@x.org", created_at=now - 9 * day, trial_started_at=now - 9 * day,
             trial_expires_at=now - 6 * day, **base),
        dict(username="t_converted", email="t3@x.org", created_at=now - 9 * day, trial_started_at=now - 9 * day,
             trial_expires_at=now - 6 * day, trial_converted_at=now - 7 * day, **base),
        dict(username="t_none", email="t4@x.org", created_at=now - day, trial_started_at=now - day, **base),
        dict(username="no_trial", email="t5@x.org", created_at=now, updated_at=now),
    ])
    engine = await r.service("engine")
    async with engine.connect() as conn:
        ids = dict((await conn.execute(users.select().with_only_columns(users.c.username, users.c.id))).all())
    await insert_rows(r, chat_completion_requests, [
        dict(request_id="in1", user_id=ids["t_active"], model="m", status="completed", input_tokens=10,
             output_tokens=5, cost_usd=Decimal("1"), created_at=now - timedelta(hours=1)),
        dict(request_id="in2", user_id=ids["t_expired"], model="m", status="completed", input_tokens=1,
             output_tokens=1, cost_usd=Decimal("0.5"), created_at=now - 8 * day),
        dict(request_id="out", user_id=ids["t_expired"], model="m", status="completed", input_tokens=100,
             output_tokens=100, cost_usd=Decimal("3"), created_at=now - day),  # after the trial: not counted
    ])


async def test_trial_figures_and_cache(app: Running) -> None:
    _, key = await app.user("root@admin.test", admin=True)
    h = bearer(key)
    await seed(app)
    a = (await app.client.get(PATH, headers=h)).json()["analytics"]
    assert (a["total_trials"], a["active_trials"], a["expired_trials"], a["converted_trials"]) == (4, 1, 3, 1)
    assert a["conversion_rate"] == 25.0
    assert a["trial_status_breakdown"] == {"active": 1, "expired": 3, "converted": 1, "pending_conversion": 2}
    u = a["usage_statistics"]
    assert (u["total_tokens_used"], u["total_requests_used"], u["total_credits_used"]) == (17, 2, 1.5)
    assert u["total_credits_allocated"] == 20.0 and u["credits_utilization_rate"] == 7.5
    assert a["average_usage_per_trial"] == {"tokens": 4.25, "requests": 0.5, "credits": 0.38}
    await insert_rows(app, users, [dict(username="late", email="t6@x.org", created_at=datetime.now(UTC),
                                        updated_at=datetime.now(UTC), trial_started_at=datetime.now(UTC))])
    assert (await app.client.get(PATH, headers=h)).json()["analytics"]["total_trials"] == 4  # cached
    assert await (await app.service("result_cache")).get("trial:analytics:summary") is not None


async def test_an_unreachable_cache_answers_uncached(sqlite_url: str) -> None:
    settings = Settings.from_env(settings_env(DATABASE_URL=sqlite_url))
    container = build_container(settings)
    dead = create_redis(f"redis://127.0.0.1:{free_port()}/0")
    container.result_cache.override(providers.Object(RedisResultCache(dead, "x:", timeout_s=0.2)))
    app = create_app(settings, container)
    try:
        async with lifespan(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                    base_url="http://testserver") as client:
            r = Running(app=app, client=client, container=app.state.container)
            _, key = await r.user("root@admin.test", admin=True)
            for path in (PATH, "/admin/monitoring/chat-requests/summary"):
                response = await client.get(path, headers=bearer(key))
                assert response.status_code == 200, response.text
            assert response.json()["cached"] is False
    finally:
        await dead.aclose()
