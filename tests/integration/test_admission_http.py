"""Admission control over HTTP: per-key limits (#1624, #1627) across two gateway processes, the
diagnostics (#1734, #1735), and the concurrency gate in front of the real app."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import update

from adapters.postgres.engine import create_engine
from adapters.postgres.tables import rate_limit_configs
from domain.errors import RateLimited
from domain.inference import Caller, InferenceRequest, Operation
from domain.limits import KeyLimits
from tests.harness import Running, bearer, running_app

REQUEST = InferenceRequest(operation=Operation.CHAT, model="m", body={}, max_tokens=10)


def email(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.com"


async def key_id_of(r: Running, user_id: int) -> int:
    async with (await r.service("uow"))() as uow:
        [key] = await uow.api_keys.list_for_user(user_id)
    return key.id


async def eventually(check: object, timeout_s: float = 3.0) -> None:
    """Poll an async predicate: the broadcast reaches the other process asynchronously."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "the broadcast never arrived"
        await asyncio.sleep(0.02)


async def test_set_limit_stores_the_key_config_and_answers_the_seed_shape(sqlite_url: str) -> None:
    async with running_app(sqlite_url) as r:
        _, admin = await r.user("root@example.com", admin=True)
        user_id, key = await r.user("u@example.com")
        body = {"api_key": key, "rate_limits": {"requests_per_minute": 5, "tokens_per_day": 123_456}}
        resp = await r.client.post("/admin/limit", json=body, headers=bearer(admin))
        assert resp.status_code == 200, resp.text
        assert resp.json() == {
            "status": "success", "message": f"Rate limits updated for user {key[:10]}...",
            "rate_limits": {"requests_per_minute": 5, "requests_per_hour": 1000, "requests_per_day": 10_000,
                            "tokens_per_minute": 1_000_000, "tokens_per_hour": None, "tokens_per_day": 123_456,
                            "concurrency_limit": 50},
        }
        stored = await (await r.service("limit_configs")).get(await key_id_of(r, user_id))
        assert stored == KeyLimits(requests_per_minute=5, tokens_per_day=123_456)

        assert (await r.client.post("/admin/limit", json=body, headers=bearer(key))).status_code == 403
        assert (await r.client.post("/admin/limit", json=body)).status_code == 401
        unknown = await r.client.post("/admin/limit", headers=bearer(admin),
                                      json={"api_key": "gw_live_" + "x" * 43, "rate_limits": {}})
        assert (unknown.status_code, unknown.json()) == (400, {"detail": "API key not found"})
        invalid = await r.client.post("/admin/limit", headers=bearer(admin),
                                      json={"api_key": key, "rate_limits": {"requests_per_minute": 0}})
        assert invalid.status_code == 422

        cleared = await r.client.post("/admin/clear-rate-limit-cache", headers=bearer(admin))
        assert cleared.status_code == 200
        assert cleared.json()["status"] == "success" and cleared.json()["message"] == (
            "Rate limit cache cleared successfully. New requests will reload configuration.")
        assert (await r.client.post("/admin/clear-rate-limit-cache", headers=bearer(key))).status_code == 403


async def test_set_limit_with_only_hourly_values_stores_and_answers_the_seed_derivation(sqlite_url: str) -> None:
    async with running_app(sqlite_url) as r:
        _, admin = await r.user("root@example.com", admin=True)
        user_id, key = await r.user("u@example.com")
        resp = await r.client.post("/admin/limit", headers=bearer(admin), json={
            "api_key": key, "rate_limits": {"requests_per_hour": 1_200, "tokens_per_hour": 60_000}})
        assert resp.status_code == 200, resp.text
        assert resp.json()["rate_limits"] == {
            "requests_per_minute": 20, "requests_per_hour": 1_200, "requests_per_day": 28_800,
            "tokens_per_minute": 1_000, "tokens_per_hour": 60_000, "tokens_per_day": 1_440_000,
            "concurrency_limit": 50}
        stored = await (await r.service("limit_configs")).get(await key_id_of(r, user_id))
        assert stored == KeyLimits(requests_per_minute=20, requests_per_hour=1_200, requests_per_day=28_800,
                                   tokens_per_minute=1_000, tokens_per_hour=60_000, tokens_per_day=1_440_000)

        partial = await r.client.post("/admin/limit", headers=bearer(admin), json={
            "api_key": key, "rate_limits": {"requests_per_minute": 3, "requests_per_hour": 1_200}})
        assert partial.status_code == 200, partial.text
        limits = partial.json()["rate_limits"]
        assert (limits["requests_per_minute"], limits["requests_per_day"]) == (3, 28_800)  # given wins
        assert (limits["tokens_per_minute"], limits["tokens_per_hour"]) == (1_000_000, None)  # defaults again


async def test_a_limit_change_holds_for_the_next_request_on_another_process(
        postgres_url: str, redis_url: str, redis_prefix: str) -> None:
    env = {"REDIS_URL": redis_url, "REDIS_PREFIX": redis_prefix}
    async with running_app(postgres_url, **env) as a, running_app(postgres_url, **env) as b:
        _, admin = await a.user(email("root"), admin=True)
        user_id, key = await a.user(email("client"))
        key_id = await key_id_of(a, user_id)
        caller = Caller(user_id=user_id, api_key_id=key_id)
        admit_b, configs_b = await b.service("admit_request"), await b.service("limit_configs")
        await admit_b(caller, REQUEST)  # b now caches "no override" for the key

        resp = await a.client.post("/admin/limit", headers=bearer(admin),
                                   json={"api_key": key, "rate_limits": {"requests_per_minute": 1}})
        assert resp.status_code == 200, resp.text
        await eventually(lambda: _cached(configs_b, key_id, KeyLimits(requests_per_minute=1)))
        with pytest.raises(RateLimited, match="Limit: 1 RPM"):
            await admit_b(caller, REQUEST)

        # #1627: a row changed behind the gateway's back is picked up everywhere once the cache is cleared
        engine = create_engine(postgres_url)
        async with engine.begin() as conn:
            await conn.execute(update(rate_limit_configs).where(rate_limit_configs.c.api_key_id == key_id)
                               .values(requests_per_minute=7))
        await engine.dispose()
        assert await configs_b.get(key_id) == KeyLimits(requests_per_minute=1)  # still cached
        assert (await a.client.post("/admin/clear-rate-limit-cache", headers=bearer(admin))).status_code == 200
        await eventually(lambda: _cached(configs_b, key_id, KeyLimits(requests_per_minute=7)))


async def _cached(configs: object, key_id: int, expected: KeyLimits) -> bool:
    return await configs.get(key_id) == expected  # type: ignore[attr-defined,no-any-return]


async def test_the_concurrency_diagnostics_report_the_gate(sqlite_url: str) -> None:
    async with running_app(sqlite_url, CONCURRENCY_LIMIT=20, CONCURRENCY_QUEUE_SIZE=50) as r:
        resp = await r.client.get("/api/diagnostics/concurrency")
        assert resp.status_code == 200
        body = resp.json()
        assert {k: body[k] for k in ("active_requests", "queued_requests", "concurrency_limit", "queue_size_limit",
                                      "queue_timeout_seconds", "utilization_percent", "queue_utilization_percent",
                                      "status", "available_slots", "available_queue_slots")} == {
            "active_requests": 1, "queued_requests": 0, "concurrency_limit": 20, "queue_size_limit": 50,
            "queue_timeout_seconds": 10.0, "utilization_percent": 5.0, "queue_utilization_percent": 0.0,
            "status": "healthy", "available_slots": 19, "available_queue_slots": 50}  # itself is in flight


async def test_provider_timing_reports_slow_calls_per_provider_and_model(sqlite_url: str) -> None:
    async with running_app(sqlite_url) as r:
        timings = await r.service("provider_timings")
        for seconds in (1.0, 35.0, 50.0, 31.0):
            timings.observe("openrouter", seconds, True, model="gpt-4")
        timings.observe("alpha", 0.5, False)
        body = (await r.client.get("/api/diagnostics/provider-timing")).json()
        assert body["metrics_available"] is True
        assert body["slow_request_counts"] == {"openrouter/gpt-4": {"slow": 2, "very_slow": 1}}
        assert body["thresholds"] == {"slow": "30-45 seconds", "very_slow": ">45 seconds"}
        assert body["note"] == ("Use Prometheus/Grafana for detailed timing histograms. "
                                "Query: provider_response_duration_seconds")
        assert body["providers"]["alpha"] == {"count": 1, "errors": 1, "mean_seconds": 0.5, "p50_seconds": 0.5,
                                              "p95_seconds": 0.5, "max_seconds": 0.5}


async def test_a_full_gate_sheds_with_503_but_health_and_metrics_still_answer(
        postgres_url: str, redis_url: str, redis_prefix: str) -> None:
    async with running_app(postgres_url, REDIS_URL=redis_url, REDIS_PREFIX=redis_prefix,
                           CONCURRENCY_LIMIT=1, CONCURRENCY_QUEUE_SIZE=0) as r:
        gate = r.app.state.gate
        await r.service("admit_request")  # the pipeline resolves it; the limiter registers its counter
        assert await gate.acquire() is None  # a long stream holds the only slot
        shed = await r.client.get("/api/diagnostics/concurrency")
        assert shed.status_code == 503 and shed.headers["retry-after"] == "1" and shed.headers["x-request-id"]
        assert "capacity" in shed.json()["detail"]
        assert (await r.client.get("/health")).status_code == 200
        metrics = await r.client.get("/metrics")
        assert metrics.status_code == 200
        assert "concurrency_active_requests 1.0" in metrics.text
        assert 'concurrency_rejected_total{reason="queue_full"} 1.0' in metrics.text
        assert "rate_limiter_degraded_total 0.0" in metrics.text
        gate.release()
        assert (await r.client.get("/api/diagnostics/concurrency")).json()["active_requests"] == 1
        assert gate.active == 0
