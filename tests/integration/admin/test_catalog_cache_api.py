"""The catalog cache for operators (#1603, #1605, #1625) on SQLite and PostgreSQL + Redis: the status
never loads, a refresh is visible at once on this process and, after its broadcast, on another; the
debug view redacts key-like fields; the refresh is counted and audited."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry
from sqlalchemy import insert, select

from adapters.catalog_file.loader import load_catalog_file
from adapters.postgres.tables import audit_log
from adapters.postgres.tables import providers as providers_table
from domain.services.catalog_cache import REFRESH_PROVIDERS
from tests.harness import Running, bearer, running_app
from tests.integration.inference_kit import CATALOG


async def test_status_refresh_and_debug(app: Running, database_url: str, deployment_env: dict[str, str]) -> None:
    admin_id, key = await app.user("root@admin.test", admin=True)
    h = bearer(key)
    empty = (await app.client.get("/admin/cache-status", headers=h)).json()["cache_info"]
    assert empty["total_cached_providers"] == 0 and empty["has_data"] is False
    assert empty["cache_age_seconds"] is None and empty["ttl_seconds"] == 1800 and empty["scope"] == "process"
    await (await app.service("load_catalog"))(*load_catalog_file(CATALOG))
    loaded = (await app.client.get("/admin/cache-status", headers=h)).json()["cache_info"]
    assert loaded["total_cached_providers"] == 4 and loaded["is_valid"] is True

    await check_other_process(app, h, database_url, deployment_env)
    await check_counted_audited_redacted(app, h, admin_id)


async def check_other_process(app: Running, h: dict[str, str], database_url: str,
                              deployment_env: dict[str, str]) -> None:
    async with running_app(database_url, **deployment_env) as other:
        engine = await app.service("engine")
        async with engine.begin() as conn:  # a provider row written behind every process's back
            await conn.execute(insert(providers_table), [dict(slug="zeta", name="Zeta", kind="openai",
                                                              base_url="http://z", api_key_env="ZETA_API_KEY",
                                                              updated_at=datetime.now(UTC))])
        _, other_key = await other.user("root2@admin.test", admin=True)
        assert (await other.client.get("/admin/cache-status", headers=bearer(other_key))).json()[
            "cache_info"]["total_cached_providers"] == 4
        done = (await app.client.post("/admin/refresh-providers", headers=h)).json()
        assert done["message"] == "Provider cache refreshed successfully" and done["total_providers"] == 5
        mine = (await app.client.get("/admin/cache-status", headers=h)).json()["cache_info"]
        assert mine["total_cached_providers"] == 5 and mine["is_valid"] is True
        if "REDIS_URL" not in deployment_env:
            return  # without Redis each app has its own in-process bus: nothing to hear
        for _ in range(100):
            theirs = (await other.client.get("/admin/cache-status", headers=bearer(other_key))).json()["cache_info"]
            if theirs["catalog_version"] == mine["catalog_version"]:
                break
            await asyncio.sleep(0.05)
        assert theirs["total_cached_providers"] == 5 and theirs["catalog_version"] == mine["catalog_version"]


async def check_counted_audited_redacted(app: Running, h: dict[str, str], admin_id: int) -> None:
    registry: CollectorRegistry = await app.service("registry")
    assert registry.get_sample_value("catalog_cache_operations_total", {
        "operation": "refresh", "cache_layer": "process", "result": "success"}) == 1
    engine = await app.service("engine")
    async with engine.connect() as conn:
        audited = (await conn.execute(select(audit_log.c.user_id).where(
            audit_log.c.event_type == REFRESH_PROVIDERS))).all()
    assert [u for (u,) in audited] == [admin_id]

    debug = (await app.client.get("/admin/debug-models", headers=h)).json()
    assert debug["models_cache"]["total_models"] > 0 and len(debug["models_cache"]["sample_models"]) <= 3
    assert all(p["api_key_env"] == "***" for p in debug["providers_cache"]["sample_providers"])
    test = debug["provider_matching_test"]
    assert len(test) == 2 and test[0]["provider_slug"] == "acme" and test[0]["found_provider"] is False
    assert "ALPHA_API_KEY" not in str(debug)
