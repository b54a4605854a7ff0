"""The cache analytics routes (#1661 `GET /v1/analytics/cache`, #1662 `.../summary`) on seeded request
rows (the seed's example) and on rows the response cache itself wrote; both disabled shapes; the key,
the bounds and a lost database."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.catalog_file.loader import load_catalog_file
from adapters.postgres.cache_usage import PostgresCacheUsageStore
from domain.requests import RequestRecord
from domain.response_cache import DISABLED_BY_SYSTEM, DISABLED_BY_USER, MISS_METADATA, hit_metadata
from domain.services.cache_analytics import CacheAnalytics
from tests.fakes.upstream import FakeUpstream
from tests.harness import Running, bearer, running_app
from tests.integration.inference_kit import CATALOG, MESSAGES, provider_env
from tests.services import unique_name

DEAD_URL = "postgresql+asyncpg://postgres@127.0.0.1:1/none"


async def app(url: str, **env: Any) -> AsyncIterator[tuple[Running, FakeUpstream]]:
    async with FakeUpstream() as fake, running_app(url, **provider_env(fake.url), **env) as r:
        await (await r.service("load_catalog"))(*load_catalog_file(CATALOG))
        yield r, fake


@pytest.fixture(params=["sqlite", "postgres"])
async def on(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Running, FakeUpstream]]:
    async for pair in app(request.getfixturevalue(f"{request.param}_url"), RESPONSE_CACHE_ENABLED="true"):
        yield pair


@pytest.fixture
async def off(sqlite_url: str) -> AsyncIterator[tuple[Running, FakeUpstream]]:
    async for pair in app(sqlite_url):
        yield pair


def row(user_id: int, model: str, at: datetime, *, hit: bool, cost: str = "0.002", status: str = "completed",
        provider: str = "alpha") -> RequestRecord:
    return RequestRecord(request_id=uuid.uuid4().hex, created_at=at, model=model, status=status, user_id=user_id,
                         provider=provider, cost_usd=Decimal(0) if hit else Decimal(cost),
                         metadata=hit_metadata(Decimal(cost)) if hit else MISS_METADATA)


async def seed_example(r: Running, user_id: int) -> None:
    """The seed's example: 6 requests on one model with 3 hits, 4 on another all hits, one failed, one
    40 days old (hits saving 0.002 each: 7 hits, 0.014)."""
    now = datetime.now().astimezone()
    rows = ([row(user_id, "acme/chat", now - timedelta(hours=1), hit=i < 3) for i in range(6)]
            + [row(user_id, "acme/other", now - timedelta(hours=2), hit=True) for _ in range(4)]
            + [row(user_id, "acme/chat", now - timedelta(hours=3), hit=True, status="failed"),
               row(user_id, "acme/chat", now - timedelta(days=40), hit=True)])
    log = await r.service("request_log")
    for record in rows:
        await log.record(record)
    await r.written()


async def get(r: Running, key: str, path: str, **params: Any) -> Any:
    return await r.client.get(path, headers=bearer(key), params=params)


async def test_the_seeds_example_gives_10_7_3_and_70_percent_with_one_top_model(on: tuple[Running, Any]) -> None:
    r, _ = on
    user_id, key = await r.user(unique_name("stats") + "@example.com")
    await seed_example(r, user_id)
    resp = await get(r, key, "/v1/analytics/cache")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["total_requests"], body["cache_hits"], body["cache_misses"]) == (10, 7, 3)
    assert body["cache_hit_rate_percent"] == 70.0 and body["period_days"] == 30
    assert body["total_savings_usd"] == 0.014 and body["estimated_monthly_savings_usd"] == 0.01
    assert body["top_cached_models"] == [{"model_name": "acme/chat", "provider": "Alpha", "total_requests": 6,
                                          "cache_hits": 3, "cache_hit_rate_percent": 50.0, "savings_usd": 0.006}]
    assert body["cache_enabled"] is True and body["system_enabled"] is True
    start, end = datetime.fromisoformat(body["start_date"]), datetime.fromisoformat(body["end_date"])
    assert end - start == timedelta(days=30) and end.utcoffset() == timedelta(0)

    fifteen = (await get(r, key, "/v1/analytics/cache", days=15)).json()
    assert fifteen["period_days"] == 15 and fifteen["total_savings_usd"] == 0.014
    assert fifteen["estimated_monthly_savings_usd"] == 0.03  # 0.014 x 30 / 15 = 0.028, doubled

    summary = (await get(r, key, "/v1/analytics/cache/summary")).json()
    assert summary == {"cache_enabled": True, "system_enabled": True, "total_requests": 10, "cache_hits": 7,
                       "cache_hit_rate_percent": 70.0, "total_savings_usd": 0.014,
                       "estimated_monthly_savings_usd": 0.01}
    assert {k: body[k] for k in summary if k != "estimated_monthly_savings_usd"} == {
        k: v for k, v in summary.items() if k != "estimated_monthly_savings_usd"}


async def test_the_figures_follow_what_the_cache_served(on: tuple[Running, Any]) -> None:
    r, fake = on
    _, key = await r.user(unique_name("live") + "@example.com", credits=1)
    for _ in range(3):
        resp = await r.client.post("/v1/chat/completions", headers=bearer(key),
                                   json={"model": "acme/chat", "messages": MESSAGES})
        assert resp.status_code == 200
    await r.written()
    body = (await get(r, key, "/v1/analytics/cache")).json()
    assert (body["total_requests"], body["cache_hits"], body["cache_misses"]) == (3, 2, 1)
    assert fake.count("chat-a") == 1 and body["total_savings_usd"] > 0
    assert body["top_cached_models"] == []  # fewer than 5 requests


async def test_a_user_without_requests_gets_zeroes(on: tuple[Running, Any]) -> None:
    r, _ = on
    _, key = await r.user(unique_name("empty") + "@example.com")
    body = (await get(r, key, "/v1/analytics/cache", days=1)).json()
    assert (body["total_requests"], body["cache_hit_rate_percent"], body["total_savings_usd"]) == (0, 0.0, 0.0)
    assert body["top_cached_models"] == [] and body["estimated_monthly_savings_usd"] == 0.0


async def test_with_the_system_switch_off_the_summary_says_so_and_the_figures_are_still_computed(
        off: tuple[Running, Any]) -> None:
    r, _ = off
    user_id, key = await r.user(unique_name("off") + "@example.com")
    await seed_example(r, user_id)
    summary = (await get(r, key, "/v1/analytics/cache/summary")).json()
    assert summary == {"cache_enabled": True, "system_enabled": False, "message": DISABLED_BY_SYSTEM,
                       "total_savings_usd": 0.0, "cache_hit_rate_percent": 0.0}
    body = (await get(r, key, "/v1/analytics/cache")).json()
    assert body["system_enabled"] is False and body["cache_hits"] == 7


async def test_with_the_users_preference_off_the_summary_says_so(on: tuple[Running, Any]) -> None:
    r, _ = on
    user_id, key = await r.user(unique_name("pref") + "@example.com")
    await seed_example(r, user_id)
    put = await r.client.put("/user/profile", headers=bearer(key), json={"preferences": {"enable_butter_cache": False}})
    assert put.status_code == 200, put.text
    summary = (await get(r, key, "/v1/analytics/cache/summary")).json()
    assert summary == {"cache_enabled": False, "system_enabled": True, "message": DISABLED_BY_USER,
                       "total_savings_usd": 0.0, "cache_hit_rate_percent": 0.0}
    body = (await get(r, key, "/v1/analytics/cache")).json()
    assert body["cache_enabled"] is False and body["system_enabled"] is True and body["cache_hits"] == 7


@pytest.mark.parametrize("days", ["0", "91", "x"])
async def test_days_out_of_bounds_is_a_422_naming_it(off: tuple[Running, Any], days: str) -> None:
    r, _ = off
    _, key = await r.user(unique_name("bounds") + "@example.com")
    resp = await get(r, key, "/v1/analytics/cache", days=days)
    assert resp.status_code == 422 and "days" in resp.text


@pytest.mark.parametrize("path", ["/v1/analytics/cache", "/v1/analytics/cache/summary"])
async def test_a_bad_key_is_a_401(off: tuple[Running, Any], path: str) -> None:
    r, _ = off
    resp = await r.client.get(path, headers=bearer("gw_live_not-a-key"))
    assert resp.status_code == 401 and resp.json()["detail"] == "Invalid API key"
    assert (await r.client.get(path)).status_code == 401


async def test_a_lost_database_answers_503(postgres_url: str) -> None:
    dead = create_async_engine(DEAD_URL, connect_args={"timeout": 2})
    try:
        async with running_app(postgres_url) as r:
            _, key = await r.user(unique_name("lost") + "@example.com")
            areas = r.app.state.areas
            areas["analytics"] = dataclasses.replace(areas["analytics"], cache_analytics=CacheAnalytics(
                PostgresCacheUsageStore(dead), await r.service("catalog_source"), await r.service("clock"),
                system_enabled=True))
            resp = await get(r, key, "/v1/analytics/cache")
    finally:
        await dead.dispose()
    assert resp.status_code == 503 and resp.json()["detail"] == "Database unavailable"
