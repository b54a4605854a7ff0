"""The ModelHub port over huggingface_hub against a local fake Hub (HF_ENDPOINT), on SQLite (in-process
cache) and PostgreSQL + Redis (shared cache): #1606 success, 404, 500 and timeout; #1604 index and age;
#1626 clear, audited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from sqlalchemy import select

from adapters.postgres.tables import audit_log
from domain.services.hub_metadata import CLEAR_HF_CACHE
from tests.harness import Running, bearer, running_app

MODEL = {"id": "acme/tiny-llm", "author": "acme", "downloads": 42, "tags": ["text-generation"],
         "authorData": {"name": "acme", "fullname": "Acme Labs", "avatarUrl": "https://a/x.png", "followerCount": 7}}


@pytest.fixture
async def fake_hub() -> AsyncIterator[str]:
    async def model(request: web.Request) -> web.Response:
        repo = request.match_info["repo"]
        if repo == "acme/tiny-llm":
            return web.json_response(MODEL)
        if repo == "acme/plain":
            return web.json_response({"id": "acme/plain", "author": "acme"})
        if repo == "acme/broken":
            return web.json_response({"error": "boom"}, status=500)
        if repo == "acme/slow":
            await asyncio.sleep(3)
            return web.json_response(MODEL)
        return web.json_response({"error": "Repository not found"}, status=404,
                                 headers={"X-Error-Code": "RepoNotFound"})

    app = web.Application()
    app.router.add_get("/api/models/{repo:.+}", model)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def hub_app(database_url: str, deployment_env: dict[str, str], fake_hub: str) -> AsyncIterator[Running]:
    async with running_app(database_url, HF_ENDPOINT=fake_hub, HF_TIMEOUT_SECONDS="0.5", **deployment_env) as r:
        yield r


async def test_fetch_cache_and_clear(hub_app: Running) -> None:
    app = hub_app
    admin_id, key = await app.user("root@admin.test", admin=True)
    h = bearer(key)
    empty = (await app.client.get("/admin/huggingface-cache-status", headers=h)).json()
    assert empty["huggingface_cache"] == {"age_seconds": None, "is_valid": False, "total_cached_models": 0,
                                          "cached_model_ids": []}
    ok = await app.client.get("/admin/test-huggingface/acme/tiny-llm", headers=h)
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["hugging_face_id"] == "acme/tiny-llm" and body["raw_response"]["downloads"] == 42
    extracted = body["author_data_extracted"]["extracted_author_data"]
    assert extracted == {"name": "acme", "fullname": "Acme Labs", "avatar_url": "https://a/x.png", "follower_count": 7}
    plain = (await app.client.get("/admin/test-huggingface/acme/plain", headers=h)).json()["author_data_extracted"]
    assert plain["has_author_data"] is False and plain["extracted_author_data"]["follower_count"] == 0
    status = (await app.client.get("/admin/huggingface-cache-status", headers=h)).json()["huggingface_cache"]
    assert status["total_cached_models"] == 2 and status["cached_model_ids"] == ["acme/plain", "acme/tiny-llm"]
    assert status["is_valid"] is True and 0 <= status["age_seconds"] < 60 and "status" not in status

    missing = await app.client.get("/admin/test-huggingface/acme/nope", headers=h)
    assert missing.status_code == 404 and missing.json()["detail"] == "Model not found on Hugging Face"
    assert (await app.client.get("/admin/test-huggingface/acme/broken", headers=h)).status_code == 502
    assert (await app.client.get("/admin/test-huggingface/acme/slow", headers=h)).status_code == 502
    assert (await app.client.get("/admin/huggingface-cache-status", headers=h)).json()[
        "huggingface_cache"]["total_cached_models"] == 2

    cleared = (await app.client.post("/admin/refresh-huggingface-cache", headers=h)).json()
    assert cleared["message"] == "Hugging Face cache cleared successfully" and "status" not in cleared
    assert (await app.client.get("/admin/huggingface-cache-status", headers=h)).json()[
        "huggingface_cache"]["total_cached_models"] == 0
    engine = await app.service("engine")
    async with engine.connect() as conn:
        audited = (await conn.execute(select(audit_log.c.user_id)
                                      .where(audit_log.c.event_type == CLEAR_HF_CACHE))).all()
    assert [u for (u,) in audited] == [admin_id]
