"""The downtime-incident routes (#1737-#1744) through the HTTP app on SQLite and on PostgreSQL +
Redis, with a fake Loki: auth, validation, the seed's bodies as the issue adapts them, the capture
window, and the resolve race."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import delete

from adapters.postgres.engine import create_engine
from adapters.postgres.incidents import PostgresIncidentRepository
from adapters.postgres.tables import downtime_incidents
from domain.incidents import CheckName, Incident, IncidentStatus, Severity
from domain.logs import ns
from gatewayz.app import create_app
from gatewayz.container import build_container, resolve
from gatewayz.settings import Settings
from tests.conftest import settings_env
from tests.fakes.loki import FakeLoki, structlog_line
from tests.harness import Running, bearer, lifespan, running_app

ROUTES = [("GET", "/admin/downtime/incidents"), ("GET", "/admin/downtime/incidents/ongoing"),
          ("GET", "/admin/downtime/statistics"), ("GET", "/admin/downtime/incidents/{id}"),
          ("GET", "/admin/downtime/incidents/{id}/logs"), ("GET", "/admin/downtime/incidents/{id}/analysis"),
          ("POST", "/admin/downtime/incidents/{id}/capture-logs"), ("POST", "/admin/downtime/incidents/{id}/resolve")]


@dataclass
class World:
    app: Running
    loki: FakeLoki
    admin: str
    user: str
    admin_email: str

    async def add(self, **fields: Any) -> Incident:
        now = datetime.now(UTC)
        fields.setdefault("started_at", now - timedelta(minutes=10))
        fields.setdefault("detected_at", fields["started_at"] + timedelta(minutes=1))
        fields.setdefault("check", CheckName.MANUAL)
        incident = Incident(id=str(uuid.uuid4()), **fields)
        repo = await self.app.service("incident_repository")
        assert await repo.open(incident) is not None
        return incident

    async def get(self, path: str, key: str | None = None, **params: Any) -> Any:
        return await self.app.client.get(path, params=params, headers=bearer(key or self.admin))

    async def post(self, path: str, key: str | None = None, **kwargs: Any) -> Any:
        return await self.app.client.post(path, headers=bearer(key or self.admin), **kwargs)


@pytest.fixture(params=["sqlite", "postgres"])
async def world(request: pytest.FixtureRequest) -> AsyncIterator[World]:
    async with FakeLoki() as loki:
        env: dict[str, Any] = {"LOKI_QUERY_URL": loki.url, "LOKI_ENABLED": "true"}
        if request.param == "sqlite":
            url = request.getfixturevalue("sqlite_url")
        else:
            url = request.getfixturevalue("postgres_url")
            env |= {"REDIS_URL": request.getfixturevalue("redis_url"),
                    "REDIS_PREFIX": request.getfixturevalue("redis_prefix")}
            engine = create_engine(url)
            async with engine.begin() as conn:  # the session's PostgreSQL database is shared
                await conn.execute(delete(downtime_incidents))
            await engine.dispose()
        async with running_app(url, **env) as app:
            email = f"root-{uuid.uuid4().hex[:8]}@example.com"
            _, admin = await app.user(email, admin=True)
            _, user = await app.user(f"ada-{uuid.uuid4().hex[:8]}@example.com")
            yield World(app, loki, admin, user, email)


async def test_every_route_is_admin_only(world: World) -> None:
    incident = await world.add()
    for method, path in ROUTES:
        path = path.replace("{id}", incident.id)
        assert (await world.app.client.request(method, path)).status_code == 401, path
        assert (await world.app.client.request(method, path, headers=bearer(world.user))).status_code == 403, path


async def test_the_list_filters_orders_and_counts_every_match(world: World) -> None:
    now = datetime.now(UTC)
    a = await world.add(started_at=now - timedelta(hours=3), severity=Severity.HIGH, environment="production")
    b = await world.add(started_at=now - timedelta(hours=2), severity=Severity.LOW, environment="staging",
                        status=IncidentStatus.RESOLVED, ended_at=now - timedelta(hours=1), duration_seconds=3600)
    c = await world.add(started_at=now - timedelta(hours=1), severity=Severity.HIGH, environment="production")
    body = (await world.get("/admin/downtime/incidents", limit=2)).json()
    assert {k: body[k] for k in ("status", "total_incidents", "ongoing", "resolved", "returned")} == {
        "status": "success", "total_incidents": 3, "ongoing": 2, "resolved": 1, "returned": 2}
    assert [i["id"] for i in body["incidents"]] == [c.id, b.id]
    high = (await world.get("/admin/downtime/incidents", severity="high", environment="production")).json()
    assert [i["id"] for i in high["incidents"]] == [c.id, a.id] and high["total_incidents"] == 2
    resolved = (await world.get("/admin/downtime/incidents", status="resolved")).json()
    assert [i["id"] for i in resolved["incidents"]] == [b.id]
    assert resolved["incidents"][0]["duration_seconds"] == 3600
    for params in ({"status": "Ongoing"}, {"status": "closed"}, {"severity": "HIGH"}, {"limit": 0}, {"limit": 501}):
        resp = await world.get("/admin/downtime/incidents", **params)
        assert resp.status_code == 422, params
        assert next(iter(params)) in resp.text


async def test_ongoing_lists_only_ongoing_and_is_not_taken_for_an_id(world: World) -> None:
    now = datetime.now(UTC)
    first = await world.add(started_at=now - timedelta(hours=2))
    second = await world.add(started_at=now - timedelta(hours=1))
    await world.add(status=IncidentStatus.INVESTIGATING)
    await world.add(status=IncidentStatus.RESOLVED, ended_at=now)
    resp = await world.get("/admin/downtime/incidents/ongoing")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "success" and body["count"] == 2
    assert [i["id"] for i in body["incidents"]] == [second.id, first.id]


async def test_statistics_cover_the_window_and_average_over_every_incident(world: World) -> None:
    now = datetime.now(UTC)
    await world.add(started_at=now - timedelta(days=1), severity=Severity.HIGH, status=IncidentStatus.RESOLVED,
                    ended_at=now, duration_seconds=600)
    await world.add(started_at=now - timedelta(days=2), severity=Severity.CRITICAL, status=IncidentStatus.RESOLVED,
                    ended_at=now, duration_seconds=301)
    await world.add(started_at=now - timedelta(days=3), severity=Severity.HIGH)
    await world.add(started_at=now - timedelta(days=10), severity=Severity.LOW)  # outside days=7
    body = (await world.get("/admin/downtime/statistics", days=7)).json()
    assert body == {"status": "success", "period_days": 7, "statistics": {
        "total_incidents": 3, "total_downtime_seconds": 901, "average_duration_seconds": 300,
        "by_severity": {"high": 2, "critical": 1}, "by_status": {"resolved": 2, "ongoing": 1}}}
    assert (await world.get("/admin/downtime/statistics")).json()["statistics"]["total_incidents"] == 4
    for days in (0, 366):
        assert (await world.get("/admin/downtime/statistics", days=days)).status_code == 422


async def test_one_incident_with_every_column_and_404_for_missing_or_not_a_uuid(world: World) -> None:
    incident = await world.add(check=CheckName.DATABASE, severity=Severity.CRITICAL, health_endpoint="/health/ready",
                               http_status_code=503, error_message="database: timeout", server_info={"pid": 7})
    body = (await world.get(f"/admin/downtime/incidents/{incident.id}")).json()
    assert body["status"] == "success"
    assert set(body["incident"]) >= {
        "id", "started_at", "detected_at", "ended_at", "duration_seconds", "health_endpoint", "error_message",
        "http_status_code", "response_body", "status", "severity", "environment", "logs_captured", "log_count",
        "logs_file_path", "resolved_by", "notes", "server_info", "metrics_snapshot", "check"}
    assert (body["incident"]["check"], body["incident"]["server_info"], body["incident"]["logs_file_path"]) == (
        "database", {"pid": 7}, None)
    for missing in (str(uuid.uuid4()), "not-a-uuid", "1", "x" * 300):
        for suffix in ("", "/logs", "/analysis"):
            resp = await world.get(f"/admin/downtime/incidents/{missing}{suffix}")
            assert (resp.status_code, resp.json()) == (404, {"detail": "Incident not found"}), (missing, suffix)
        for suffix in ("/capture-logs", "/resolve"):
            resp = await world.post(f"/admin/downtime/incidents/{missing}{suffix}")
            assert (resp.status_code, resp.json()) == (404, {"detail": "Incident not found"}), (missing, suffix)


LOGS = [
    {"timestamp": "2026-05-01T12:00:00+00:00", "level": "ERROR", "logger": "gatewayz.db", "message": "Pool timeout",
     "labels": {}, "error_type": "TimeoutError"},
    {"timestamp": "2026-05-01T12:00:01+00:00", "level": "WARNING", "logger": "gatewayz.db", "message": "slow query",
     "labels": {}},
    {"timestamp": "2026-05-01T12:00:02+00:00", "level": "ERROR", "logger": "gatewayz.api", "message": "x" * 250,
     "labels": {}},
    {"timestamp": "2026-05-01T12:00:03+00:00", "level": "ERROR", "logger": "gatewayz.db", "message": "pool timeout",
     "labels": {}, "error_type": "TimeoutError"},
    {"timestamp": "2026-05-01T12:00:04+00:00", "level": "INFO", "logger": "gatewayz.api", "message": "recovered",
     "labels": {}},
    {"timestamp": "2026-05-01T12:00:05+00:00", "level": "ERROR", "logger": "gatewayz.api", "message": "x" * 250,
     "labels": {}},
]


async def test_logs_are_filtered_in_stored_order_and_the_empty_body_is_the_seeds(world: World) -> None:
    empty = await world.add()
    assert (await world.get(f"/admin/downtime/incidents/{empty.id}/logs")).json() == {
        "status": "success", "message": "No logs captured for this incident", "total_logs": 0, "logs": []}
    incident = await world.add(logs_captured=LOGS, log_count=len(LOGS))
    path = f"/admin/downtime/incidents/{incident.id}/logs"
    everything = (await world.get(path)).json()
    assert (everything["total_logs"], everything["total_captured"], everything["logs"]) == (6, 6, LOGS)
    assert everything["filters"] == {"level": None, "logger": None, "search": None}
    db_errors = (await world.get(path, level="ERROR", logger_name="gatewayz.db", search="POOL")).json()
    assert db_errors["logs"] == [LOGS[0], LOGS[3]] and db_errors["total_logs"] == 2
    assert db_errors["filters"] == {"level": "ERROR", "logger": "gatewayz.db", "search": "POOL"}
    assert (await world.get(path, level="error")).status_code == 422  # case-sensitive, as in the seed


async def test_analysis_counts_types_and_top_errors(world: World) -> None:
    empty = await world.add()
    assert (await world.get(f"/admin/downtime/incidents/{empty.id}/analysis")).json() == {
        "status": "success", "message": "No logs to analyze", "analysis": None}
    incident = await world.add(logs_captured=LOGS, log_count=len(LOGS))
    body = (await world.get(f"/admin/downtime/incidents/{incident.id}/analysis")).json()
    assert body == {"status": "success", "incident_id": incident.id, "analysis": {
        "total_logs": 6, "error_count": 4, "warning_count": 1,
        "error_types": {"TimeoutError": 2, "Unknown": 2},
        "top_errors": [["x" * 200, 2], ["Pool timeout", 1], ["pool timeout", 1]]}}


async def test_capture_reads_the_window_from_five_minutes_before_and_replaces_the_previous(world: World) -> None:
    started = datetime.now(UTC) - timedelta(minutes=20)
    incident = await world.add(started_at=started)
    start_ns = ns(started) - 300 * 10**9
    world.loki.add({"app": "gatewayz-api"}, [(start_ns - 1, "too early"), (start_ns, structlog_line("first")),
                                             (start_ns + 10**9, "second")])
    path = f"/admin/downtime/incidents/{incident.id}/capture-logs"
    resp = await world.post(path)
    assert resp.status_code == 200
    assert resp.json() == {"status": "success", "message": "Log capture triggered", "result": {
        "success": True, "log_count": 2, "truncated": False, "storage": "database"}}
    request = world.loki.requests[-1].params
    assert (request["query"], request["start"], request["direction"]) == ('{app="gatewayz-api"}', str(start_ns),
                                                                         "forward")
    stored = (await world.get(f"/admin/downtime/incidents/{incident.id}")).json()["incident"]
    assert stored["log_count"] == 2 and [e["message"] for e in stored["logs_captured"]] == ["first", "second"]
    world.loki.clear()
    world.loki.add({"app": "gatewayz-api"}, [(start_ns + 5 * 10**9, "only one now")])
    assert (await world.post(path)).json()["result"]["log_count"] == 1
    stored = (await world.get(f"/admin/downtime/incidents/{incident.id}")).json()["incident"]
    assert [e["message"] for e in stored["logs_captured"]] == ["only one now"]


async def test_a_failed_or_empty_capture_answers_200_and_leaves_the_stored_logs(world: World) -> None:
    incident = await world.add(logs_captured=LOGS, log_count=len(LOGS))
    path = f"/admin/downtime/incidents/{incident.id}/capture-logs"
    assert (await world.post(path)).json()["result"] == {"success": False, "log_count": 0,
                                                          "error": "No logs found in Loki"}
    world.loki.fail_status = 500
    resp = await world.post(path)
    assert resp.status_code == 200
    assert resp.json()["result"]["success"] is False
    assert resp.json()["result"]["error"].startswith("Loki answered HTTP 500")
    assert (await world.get(f"/admin/downtime/incidents/{incident.id}")).json()["incident"]["log_count"] == len(LOGS)


async def test_capture_is_only_for_ongoing_incidents(world: World) -> None:
    incident = await world.add(status=IncidentStatus.RESOLVED, ended_at=datetime.now(UTC))
    resp = await world.post(f"/admin/downtime/incidents/{incident.id}/capture-logs")
    assert (resp.status_code, resp.json()) == (400, {"detail": "Can only capture logs for ongoing incidents"})


async def test_capture_with_loki_not_enabled(tmp_path: Any, sqlite_url: str) -> None:
    async with running_app(sqlite_url) as app:
        _, admin = await app.user("root@example.com", admin=True)
        repo = await app.service("incident_repository")
        now = datetime.now(UTC)
        incident = Incident(id=str(uuid.uuid4()), started_at=now, detected_at=now, check=CheckName.MANUAL)
        await repo.open(incident)
        resp = await app.client.post(f"/admin/downtime/incidents/{incident.id}/capture-logs", headers=bearer(admin))
        assert resp.json()["result"] == {"success": False, "log_count": 0, "error": "Loki not enabled"}


async def test_resolve_sets_the_end_the_duration_and_who_and_takes_notes_from_query_or_body(world: World) -> None:
    started = datetime.now(UTC) - timedelta(minutes=30)
    incident = await world.add(started_at=started, notes="initial")
    resp = await world.post(f"/admin/downtime/incidents/{incident.id}/resolve")
    assert resp.status_code == 200
    body = resp.json()
    assert (body["status"], body["message"]) == ("success", "Incident resolved")
    resolved = body["incident"]
    assert (resolved["status"], resolved["resolved_by"], resolved["notes"]) == (
        "resolved", f"admin:{world.admin_email}", "initial")
    assert 1799 <= resolved["duration_seconds"] <= 1810 and resolved["ended_at"] is not None
    again = await world.post(f"/admin/downtime/incidents/{incident.id}/resolve")
    assert (again.status_code, again.json()) == (400, {"detail": "Incident is already resolved"})
    by_query = await world.add()
    resp = await world.post(f"/admin/downtime/incidents/{by_query.id}/resolve", params={"notes": "restarted"})
    assert resp.json()["incident"]["notes"] == "restarted"
    by_body = await world.add()
    assert (await world.post(f"/admin/downtime/incidents/{by_body.id}/resolve",
                             json={"notes": "failover"})).json()["incident"]["notes"] == "failover"
    stats = (await world.get("/admin/downtime/statistics")).json()["statistics"]
    assert stats["total_downtime_seconds"] >= 1799  # the fix: a manual resolution adds its downtime


async def test_ten_concurrent_resolves_one_wins(world: World) -> None:
    incident = await world.add()
    responses = await asyncio.gather(*(world.post(f"/admin/downtime/incidents/{incident.id}/resolve")
                                       for _ in range(10)))
    assert sorted(r.status_code for r in responses) == [200] + [400] * 9


async def test_a_lost_database_is_a_503_not_an_empty_list_or_a_404(sqlite_url: str) -> None:
    dead = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    settings = Settings.from_env(settings_env(DATABASE_URL=sqlite_url))
    container = build_container(settings)
    container.incident_repository.override(PostgresIncidentRepository(dead))
    app = create_app(settings, container)
    try:
        async with lifespan(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                    base_url="http://testserver") as client:
            created = await (await resolve(container.users.create_user))(email="r@example.com", admin=True,
                                                                          credits=Decimal(0))
            headers = bearer(created.api_key)
            for path in ("/admin/downtime/incidents/ongoing", f"/admin/downtime/incidents/{uuid.uuid4()}",
                         "/admin/downtime/incidents", "/admin/downtime/statistics"):
                resp = await client.get(path, headers=headers)
                assert resp.status_code == 503, path
                assert resp.json()["detail"] == "Database unavailable"
    finally:
        await dead.dispose()
