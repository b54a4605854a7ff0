"""The OpenAPI document: served publicly, complete, and true to the access rules the guard enforces."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.harness import Running, running_app
from tests.integration.test_route_inventory import IDENTIFY_ROUTES, PUBLIC_ROUTES, handlers

# Served by the documentation router itself, so not operations of the document.
DOCUMENT_ROUTES = {"/openapi.json", "/schema", "/schema/openapi.json", "/schema/{path}"}
METHODS = {"get", "post", "put", "patch", "delete"}
# A body that passes validation, so an open door would show as 200/4xx-other instead of 401.
INFERENCE_BODY = {"model": "acme/chat", "messages": [{"role": "user", "content": "hi"}], "prompt": "hi",
                  "input": "hi", "max_tokens": 8}


@pytest.fixture(scope="module")
async def app(migrated_sqlite_module: str) -> AsyncIterator[Running]:
    async with running_app(migrated_sqlite_module) as r:
        yield r


@pytest.fixture(scope="module")
def migrated_sqlite_module(tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Any) -> str:
    import shutil
    target = tmp_path_factory.mktemp("openapi") / "gatewayz.db"
    shutil.copyfile(migrated_sqlite, target)
    return f"sqlite+aiosqlite:///{target}"


async def the_document(app: Running) -> dict[str, Any]:
    resp = await app.client.get("/openapi.json")
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method.upper(), op) for path, item in doc["paths"].items()
            for method, op in item.items() if method in METHODS]


async def test_the_document_is_public_openapi_3_1_and_the_same_at_both_addresses(app: Running) -> None:
    doc = await the_document(app)
    assert doc["openapi"].startswith("3.1")
    assert doc["info"]["title"] == "Gatewayz" and doc["info"]["version"]
    again = await app.client.get("/schema/openapi.json")
    assert again.status_code == 200 and again.json() == doc


# issue 15: these take their input as query parameters, as the seed's did
BODYLESS_MONITORING_POSTS = {"/admin/downtime/incidents/{incident_id}/capture-logs",
                             "/error-monitor/fixes/generate-for-error", "/error-monitor/fixes/generate-batch",
                             "/error-monitor/monitor/start", "/error-monitor/monitor/stop",
                             "/error-monitor/monitor/scan"}


async def test_every_operation_has_a_unique_id_tags_responses_and_its_bodies(app: Running) -> None:
    ops = operations(await the_document(app))
    ids = [op.get("operationId") for _, _, op in ops]
    assert all(ids) and len(ids) == len(set(ids)), ids
    for path, method, op in ops:
        assert op.get("tags"), (method, path)
        assert any(code.startswith("2") for code in op["responses"]), (method, path)
        if method in {"POST", "PATCH", "PUT"} and path not in {"/circuit-breakers/reset-all",
                                                                "/circuit-breakers/{provider}/reset",
                                                                "/admin/clear-rate-limit-cache",
                                                                "/admin/refresh-providers",  # issue 14: no body
                                                                "/admin/refresh-huggingface-cache",
                                                                *BODYLESS_MONITORING_POSTS}:
            assert "requestBody" in op, (method, path)
        assert "400" not in op["responses"], (method, path)  # bad input is our 422, not Litestar's 400
        for media in op["responses"]["200"].get("content", {}).values():
            assert media["schema"] != {}, (method, path)  # every answer says what it is


async def test_the_documents_operations_are_exactly_the_apps_routes(app: Running) -> None:
    documented = {(path, method) for path, method, _ in operations(await the_document(app))}
    routed = set()
    for path, methods, _ in handlers(app.app):
        for method in methods.split(","):
            if method not in {"OPTIONS", "HEAD", "WS"} and path not in DOCUMENT_ROUTES:
                routed.add((re.sub(r"\{(\w+):\w+\}", r"{\1}", path), method))
    assert documented == routed


async def test_security_follows_the_auth_policy_and_every_closed_operation_answers_401_without_a_key(
        app: Running) -> None:
    doc = await the_document(app)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {"type": "http", "scheme": "bearer", "bearerFormat": "gw_live_...",
                                 "description": schemes["ApiKey"]["description"]}
    checked = 0
    for path, method, op in operations(doc):
        public = path in PUBLIC_ROUTES
        assert ("security" not in op) == public, (method, path, op.get("security"))
        if public:
            continue
        if path in IDENTIFY_ROUTES:  # anonymous is allowed: documented as an alternative
            assert {} in op["security"] and {"ApiKey": []} in op["security"], (method, path)
            continue
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        body = INFERENCE_BODY if "requestBody" in op else None
        resp = await app.client.request(method, concrete, json=body)
        assert resp.status_code == 401, (method, path, resp.status_code, resp.text)
        checked += 1
    assert checked >= 30


async def test_a_public_route_answers_without_a_key(app: Running) -> None:
    for path in ("/health", "/v1/models", "/circuit-breakers", "/api/diagnostics/concurrency", "/metrics"):
        assert (await app.client.get(path)).status_code == 200, path
