"""Operations: request ids, metrics, error shapes, readiness, and behaviour when infrastructure is lost."""

from __future__ import annotations

import dataclasses
import re
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from adapters.http import errors as http_errors
from adapters.redis.client import create_redis
from adapters.redis.health import RedisProbe
from domain.services.check_readiness import CheckReadiness
from tests.harness import Running, bearer, running_app
from tests.integration.proxy import TcpProxy
from tests.services import free_port

COUNT = "/admin/users/count"
GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
async def app(sqlite_url: str) -> AsyncIterator[Running]:
    async with running_app(sqlite_url) as r:
        yield r


async def test_a_sane_request_id_is_honoured_and_echoed(app: Running) -> None:
    for rid in ("abc-123", "req_01J.9:Z", "x" * 128):
        for path in ("/health", "/no/such/route"):
            resp = await app.client.get(path, headers={"X-Request-Id": rid})
            assert resp.headers["x-request-id"] == rid, path


async def test_a_missing_or_insane_request_id_is_replaced_by_a_generated_one(app: Running) -> None:
    seen = set()
    for headers in ({}, {"X-Request-Id": "has space"}, {"X-Request-Id": "x" * 129}, {"X-Request-Id": "<script>"},
                    {"X-Request-Id": ""}):
        for path in ("/health", "/no/such/route", COUNT):
            rid = (await app.client.get(path, headers=headers)).headers["x-request-id"]
            assert GENERATED_ID.match(rid), (headers, path, rid)
            seen.add(rid)
    assert len(seen) == 15  # a fresh id for every request


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [(s.labels, s.value) for family in text_string_to_metric_families(text)
            for s in family.samples if s.name == name]


async def test_metrics_count_requests_by_route_template_method_and_status(app: Running) -> None:
    user_id, admin = await app.user(unique("root"), admin=True)
    assert (await app.client.get(f"/admin/users/{user_id}", headers=bearer(admin))).status_code == 200
    assert (await app.client.get("/admin/users/987654", headers=bearer(admin))).status_code == 404
    assert (await app.client.get(f"/admin/users/{user_id}")).status_code == 401
    resp = await app.client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    requests = samples(resp.text, "http_requests_total")
    by_labels = {(lbl["method"], lbl["endpoint"], lbl["status"]): v for lbl, v in requests}
    assert by_labels[("GET", "/admin/users/{user_id}", "200")] == 1
    assert by_labels[("GET", "/admin/users/{user_id}", "404")] == 1
    assert by_labels[("GET", "/admin/users/{user_id}", "401")] == 1
    assert not [lbl for lbl, _ in requests if re.search(r"/\d", lbl["endpoint"])], "raw ids leaked into labels"
    durations = {lbl["endpoint"]: v for lbl, v in samples(resp.text, "http_request_duration_seconds_count")
                 if lbl["method"] == "GET"}
    assert durations["/admin/users/{user_id}"] == 3
    buckets = [lbl["le"] for lbl, _ in samples(resp.text, "http_request_duration_seconds_bucket")
               if lbl["endpoint"] == "/admin/users/{user_id}"]
    assert "+Inf" in buckets and len(buckets) > 5


async def test_a_validation_error_is_422_with_a_fastapi_style_detail_list(app: Running) -> None:
    _, admin = await app.user(unique("root"), admin=True)
    for query in ("limit=0", "limit=abc", "offset=-1", "limit=10001"):
        resp = await app.client.get(f"/admin/users?{query}", headers=bearer(admin))
        assert resp.status_code == 422, (query, resp.text)
        detail = resp.json()["detail"]
        assert isinstance(detail, list) and detail, query
        for item in detail:
            assert set(item) == {"loc", "msg", "type"}, item
            assert item["loc"] == ["query", query.split("=")[0]]
            assert isinstance(item["msg"], str) and item["msg"]
            assert isinstance(item["type"], str) and item["type"]


async def test_an_unexpected_exception_is_a_500_with_a_request_id_and_the_traceback_only_in_the_log(
        app: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    _, admin = await app.user(unique("root"), admin=True)

    async def boom() -> int:
        raise RuntimeError("secret internals: password=hunter2")

    areas = app.app.state.areas
    areas["users"] = dataclasses.replace(areas["users"], count_users=boom)
    captured = structlog.testing.CapturingLogger()
    monkeypatch.setattr(http_errors, "log", structlog.wrap_logger(
        captured, processors=[structlog.contextvars.merge_contextvars, structlog.processors.format_exc_info]))
    resp = await app.client.get(COUNT, headers={**bearer(admin), "X-Request-Id": "trace-me-42"})
    assert resp.status_code == 500
    ours = resp.headers["x-gatewayz-request-id"]
    assert GENERATED_ID.match(ours)  # the gateway's own id: a client's id is not unique enough to key a log
    assert resp.json() == {"detail": "Internal server error", "request_id": ours}
    assert resp.headers["x-request-id"] == "trace-me-42"  # the client's, echoed
    assert "hunter2" not in resp.text and "Traceback" not in resp.text
    [call] = [c for c in captured.calls if c.method_name == "error"]
    assert call.kwargs["request_id"] == ours
    assert call.kwargs["client_request_id"] == "trace-me-42"
    assert "RuntimeError: secret internals" in call.kwargs["exception"]
    assert "Traceback" in call.kwargs["exception"]


async def test_health_answers_without_io_and_readiness_lists_each_check(app: Running) -> None:
    health = await app.client.get("/health")
    assert (health.status_code, health.json()["status"]) == (200, "healthy")
    ready = await app.client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok"}}


async def test_readiness_is_503_naming_the_dependency_that_failed(postgres_url: str, redis_url: str,
                                                                  redis_prefix: str) -> None:
    async with running_app(postgres_url, REDIS_URL=redis_url, REDIS_PREFIX=redis_prefix) as r:
        ok = await r.client.get("/health/ready")
        assert ok.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}
        dead = create_redis(f"redis://127.0.0.1:{free_port()}/0")
        try:
            probes = [p for p in await r.service("probes") if p.name != "redis"] + [RedisProbe(dead)]
            areas = r.app.state.areas
            areas["health"] = dataclasses.replace(areas["health"], check_readiness=CheckReadiness(probes))
            resp = await r.client.get("/health/ready")
        finally:
            await dead.aclose()
    assert resp.status_code == 503
    assert resp.json() == {"status": "unavailable", "detail": "Not ready: redis",
                           "checks": {"database": "ok", "redis": "Redis unavailable"}}


def via(url: str, proxy: TcpProxy) -> str:
    return make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


async def test_an_unreachable_database_is_503_at_once_never_401_or_a_hang(postgres_url: str) -> None:
    closed = make_url(postgres_url).set(host="127.0.0.1", port=free_port()).render_as_string(hide_password=False)
    started = time.monotonic()
    async with running_app(closed) as r:
        assert (await r.client.get("/health")).status_code == 200
        ready = await r.client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["detail"] == "Not ready: database"
        assert ready.json()["checks"] == {"database": "Database unavailable"}
        resp = await r.client.get(COUNT, headers=bearer("gw_live_" + "k" * 43))
        assert resp.status_code == 503
        assert resp.json()["detail"] == "Database unavailable"
        garbage = await r.client.get(COUNT, headers=bearer("not-a-key"))
        assert garbage.status_code == 401  # no lookup needed to refuse garbage
    assert time.monotonic() - started < 5


async def test_a_lost_database_is_503_while_a_key_used_before_keeps_authenticating(postgres_url: str) -> None:
    url = make_url(postgres_url)
    async with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy, \
            running_app(via(postgres_url, proxy), KEY_CACHE_TTL_SECONDS="0") as r:
        _, admin = await r.user(unique("cached"), admin=True)
        _, never_used = await r.user(unique("unseen"), admin=True)
        assert (await r.client.get(COUNT, headers=bearer(admin))).status_code == 200
        await proxy.cut()
        started = time.monotonic()

        lost = await r.client.get(COUNT, headers=bearer(admin))
        assert lost.status_code == 503, lost.text
        assert lost.json()["detail"] == "Database unavailable"

        async def seven() -> int:
            return 7

        real = r.app.state.areas["users"]
        r.app.state.areas["users"] = dataclasses.replace(real, count_users=seven)  # a route that needs no database
        cached = await r.client.get(COUNT, headers=bearer(admin))
        assert (cached.status_code, cached.json()["count"]) == (200, 7)  # authenticated from the stale cache
        unseen = await r.client.get(COUNT, headers=bearer(never_used))
        assert unseen.status_code == 503  # cannot be checked now: unavailable, not invalid
        r.app.state.areas["users"] = real

        assert (await r.client.get("/health")).status_code == 200
        ready = await r.client.get("/health/ready")
        assert (ready.status_code, ready.json()["checks"]["database"]) == (503, "Database unavailable")
        assert time.monotonic() - started < 5


async def test_a_lost_redis_fails_readiness_but_not_requests_that_do_not_need_it(postgres_url: str, redis_url: str,
                                                                                redis_prefix: str) -> None:
    target = make_url(redis_url.replace("redis://", "postgresql://"))  # only to parse host and port
    async with TcpProxy(target.host or "127.0.0.1", target.port or 6379) as proxy, \
            running_app(postgres_url, REDIS_URL=f"redis://127.0.0.1:{proxy.port}/0", REDIS_PREFIX=redis_prefix) as r:
        user_id, admin = await r.user(unique("redis-lost"), admin=True)
        issued = await (await r.service("issue_api_key"))(user_id, name="doomed")
        assert (await r.client.get(COUNT, headers=bearer(issued.plaintext))).status_code == 200
        await proxy.cut()
        started = time.monotonic()
        ready = await r.client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"database": "ok", "redis": "Redis unavailable"}
        assert (await r.client.get(COUNT, headers=bearer(admin))).status_code == 200
        await (await r.service("revoke_api_key"))(issued.key.id)  # the broadcast fails; this process still forgets
        assert (await r.client.get(COUNT, headers=bearer(issued.plaintext))).status_code == 401
        assert time.monotonic() - started < 5
