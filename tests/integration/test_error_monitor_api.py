"""The /error-monitor routes through the HTTP app on SQLite and on PostgreSQL + Redis, against a fake
Loki, the fake upstream in Anthropic mode and a fake GitHub: admin-only, the seed's bodies, the
fixes listed in the issue (no auth, Loki down answered as "0 errors", severity sorted as a string,
read-only routes failing without a key, scans re-counting), the budget, redaction, pull requests."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete

from adapters.postgres.engine import create_engine
from adapters.postgres.tables import error_monitor_state, error_patterns, generated_fixes
from domain.logs import ns
from tests.fakes.github import FakeGitHub
from tests.fakes.loki import FakeLoki
from tests.fakes.upstream import FakeUpstream, Script
from tests.harness import Running, bearer, running_app

MODEL = "claude-3-5-sonnet-20241022"
GENERATE = "/error-monitor/fixes/generate-for-error"
KEY = "sk-ant-test-0123456789abcdef"
SEEDED_SECRET = "gw_live_SeededSecretKey0123456789abcdefghijklmno"
ROUTES = [("GET", "/error-monitor/autonomous/status"), ("GET", "/error-monitor/errors/recent"),
          ("GET", "/error-monitor/errors/critical"), ("GET", "/error-monitor/errors/fixable"),
          ("GET", "/error-monitor/errors/patterns"), ("GET", "/error-monitor/fixes/generated"),
          ("GET", f"/error-monitor/fixes/{uuid.uuid4()}"), ("GET", "/error-monitor/dashboard"),
          ("POST", "/error-monitor/fixes/generate-for-error?error_id=x"),
          ("POST", "/error-monitor/fixes/generate-batch?error_ids=x"), ("POST", "/error-monitor/monitor/start"),
          ("POST", "/error-monitor/monitor/stop"), ("POST", "/error-monitor/monitor/scan")]

FIX_JSON = {"proposed_fix": "Retry the read with backoff", "files_affected": ["adapters/providers/upstream.py"],
            "code_changes": {"adapters/providers/upstream.py": "RETRIES = 3\n"}}


def line(event: str, *, error_type: str = "TimeoutError", **fields: Any) -> str:
    return json.dumps({"event": event, "level": "error", "logger": "gatewayz.x", "error_type": error_type, **fields})


@dataclass
class World:
    app: Running
    loki: FakeLoki
    anthropic: FakeUpstream
    github: FakeGitHub
    admin: str
    user: str

    async def get(self, path: str, **params: Any) -> Any:
        return await self.app.client.get(path, params=params, headers=bearer(self.admin))

    async def post(self, path: str, **params: Any) -> Any:
        return await self.app.client.post(path, params=params, headers=bearer(self.admin))

    def errors(self, *messages: str | tuple[str, str], minutes_ago: float = 5) -> None:
        at = ns(datetime.now(UTC) - timedelta(minutes=minutes_ago))
        values = []
        for i, m in enumerate(messages):
            text, error_type = m if isinstance(m, tuple) else (m, "TimeoutError")
            values.append((at + i * 1000, line(text, error_type=error_type)))
        self.loki.add({"app": "gatewayz-api", "level": "ERROR"}, values)

    def script_fix(self, analysis: str = "The read times out under load.", fix: Any = None) -> None:
        self.anthropic.script(MODEL, Script(content=analysis, times=1))
        reply = fix if isinstance(fix, str) else json.dumps(FIX_JSON if fix is None else fix)
        self.anthropic.script(MODEL, Script(content=reply, times=1))

    async def generator(self) -> Any:
        return await self.app.service("generate_fix")


Fakes = tuple[FakeLoki, FakeUpstream, FakeGitHub]


async def clean(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        for table in (error_patterns, error_monitor_state, generated_fixes):
            await conn.execute(delete(table))
    await engine.dispose()



def env_for(loki: FakeLoki, anthropic: FakeUpstream, github: FakeGitHub, **extra: Any) -> dict[str, Any]:
    env = {"LOKI_QUERY_URL": loki.url, "ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": anthropic.url,
           "GITHUB_TOKEN": github.token, "GITHUB_REPOSITORY": github.repository, "GITHUB_API_URL": github.url,
           "MONITORING_ENABLED": "false"}
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "sqlite":
        return {"url": request.getfixturevalue("sqlite_url")}
    return {"url": request.getfixturevalue("postgres_url"), "REDIS_URL": request.getfixturevalue("redis_url"),
            "REDIS_PREFIX": request.getfixturevalue("redis_prefix")}


@pytest.fixture
async def fakes() -> AsyncIterator[Fakes]:
    async with FakeLoki() as loki, FakeUpstream() as anthropic, FakeGitHub() as github:
        yield loki, anthropic, github


async def make_world(backend: dict[str, Any], fakes: Fakes,
                     **extra: Any) -> AsyncIterator[World]:
    backend = dict(backend)
    url = backend.pop("url")
    if url.startswith("postgresql"):
        await clean(url)
    loki, anthropic, github = fakes
    async with running_app(url, **backend, **env_for(loki, anthropic, github, **extra)) as app:
        _, admin = await app.user(f"root-{uuid.uuid4().hex[:8]}@example.com", admin=True)
        _, user = await app.user(f"ada-{uuid.uuid4().hex[:8]}@example.com")
        yield World(app, loki, anthropic, github, admin, user)


@pytest.fixture
async def world(backend: dict[str, Any], fakes: Fakes) -> AsyncIterator[World]:
    async for w in make_world(backend, fakes):
        yield w


async def test_every_route_is_admin_only(world: World) -> None:
    for method, path in ROUTES:
        assert (await world.app.client.request(method, path)).status_code == 401, path
        resp = await world.app.client.request(method, path, headers=bearer(world.user))
        assert resp.status_code == 403, path
    assert world.loki.requests == [] and world.anthropic.requests == []


async def test_recent_errors_are_read_classified_and_grouped_without_storing(world: World) -> None:
    world.errors("socket timeout reading upstream", "socket timeout reading upstream", "Redis connection refused",
                 ("database connection pool exhausted", "OperationalError"))
    resp = await world.get("/error-monitor/errors/recent", hours=2, limit=50)
    assert resp.status_code == 200
    body = resp.json()
    assert (body["count"], body["hours"]) == (3, 2)
    by_id = {e["id"]: e for e in body["errors"]}
    timeout = by_id["timeout_error:socket timeout reading upstream"]
    assert (timeout["count"], timeout["category"], timeout["severity"], timeout["fixable"]) == (
        2, "timeout_error", "medium", True)
    assert timeout["suggested_fix"] == "Increase timeout threshold or add connection pooling"
    assert set(timeout) >= {"error_type", "message", "file", "line", "function", "stack_trace", "timestamp",
                            "last_seen", "examples"}
    request = world.loki.requests[-1].params
    assert (request["query"], request["direction"], request["limit"]) == ('{level="ERROR"}', "backward", "51")
    assert (await world.get("/error-monitor/errors/patterns")).json()["total_patterns"] == 0  # nothing stored
    for params in ({"hours": 0}, {"hours": 25}, {"limit": 0}, {"limit": 1001}):
        resp = await world.get("/error-monitor/errors/recent", **params)
        assert resp.status_code == 422 and next(iter(params)) in resp.text


async def test_critical_by_count_and_fixable_by_severity_rank(world: World) -> None:
    world.errors("database down", "Unauthorized", "Unauthorized", "Redis refused", "Redis refused", "Redis refused",
                 "validation failed", "Stripe refused")
    critical = (await world.get("/error-monitor/errors/critical")).json()
    messages = [e["message"] for e in critical["critical_errors"]]
    assert messages[0] == "Unauthorized" and sorted(messages[1:]) == ["Stripe refused", "database down"]
    fixable = (await world.get("/error-monitor/errors/fixable")).json()
    assert [(e["severity"], e["message"]) for e in fixable["fixable_errors"]] == [
        ("critical", "database down"), ("high", "Unauthorized"), ("medium", "Redis refused")]
    assert fixable["count"] == 3


async def test_loki_down_is_a_502_and_loki_not_enabled_is_said(backend: dict[str, Any],
                                                                 fakes: Fakes) -> None:
    loki = fakes[0]
    loki.fail_status = 500
    async for w in make_world(backend, fakes):
        for path in ("/error-monitor/errors/recent", "/error-monitor/errors/critical", "/error-monitor/errors/fixable"):
            resp = await w.get(path)
            assert (resp.status_code, resp.json()) == (502, {"detail": "Loki query failed"}), path
        resp = await w.post("/error-monitor/monitor/scan")
        assert (resp.status_code, resp.json()) == (502, {"detail": "Loki query failed"})
    async for w in make_world(backend, fakes, LOKI_QUERY_URL=None, LOKI_ENABLED="false"):
        assert (await w.get("/error-monitor/errors/recent")).json() == {"count": 0, "hours": 1, "errors": [],
                                                                        "loki_enabled": False}
        dashboard = (await w.get("/error-monitor/dashboard")).json()
        assert dashboard["recent_critical"] == [] and dashboard["recent_fixable"] == []


async def test_scans_store_patterns_once_per_entry(world: World) -> None:
    world.errors("socket timeout", "socket timeout", "database down")
    first = (await world.post("/error-monitor/monitor/scan")).json()
    assert first == {"status": "scanned", "errors_found": 2, "hours": 1, "critical_errors": 1}
    again = (await world.post("/error-monitor/monitor/scan")).json()  # overlapping: nothing new
    assert again["errors_found"] == 0
    world.errors("socket timeout", minutes_ago=1)
    await world.post("/error-monitor/monitor/scan")
    patterns = (await world.get("/error-monitor/errors/patterns")).json()
    assert patterns["total_patterns"] == 2
    counts = {p["id"]: p["count"] for p in patterns["patterns"]}
    assert counts == {"timeout_error:socket timeout": 3, "database_error:database down": 1}
    assert patterns["patterns"][0]["id"] == "timeout_error:socket timeout"  # last_seen desc
    assert len((await world.get("/error-monitor/errors/patterns", limit=1, offset=1)).json()["patterns"]) == 1
    status = (await world.get("/error-monitor/autonomous/status")).json()
    assert status["status"] == "ok"
    assert status["monitor"]["total_patterns"] == 2 and status["monitor"]["errors_since_last_fix"] == 4
    assert status["monitor"]["last_scan"] is not None
    dashboard = (await world.get("/error-monitor/dashboard")).json()
    assert dashboard["summary"]["patterns_by_category"] == {"timeout_error": 3, "database_error": 1}
    assert dashboard["summary"]["total_patterns"] == 2
    assert len([r for r in world.loki.requests if r.params["direction"] == "backward"]) == 1  # one read


async def test_without_a_key_reads_and_scans_work_and_generation_is_503(
        backend: dict[str, Any], fakes: Fakes) -> None:
    async for w in make_world(backend, fakes, ANTHROPIC_API_KEY=None):
        w.errors("socket timeout")
        assert (await w.post("/error-monitor/monitor/scan")).status_code == 200
        assert (await w.get("/error-monitor/fixes/generated")).json() == {"total_fixes": 0, "fixes": []}
        for path, params in (("/error-monitor/fixes/generate-for-error", {"error_id": "timeout_error:socket timeout"}),
                             ("/error-monitor/fixes/generate-batch", {"error_ids": "timeout_error:socket timeout"}),
                             ("/error-monitor/monitor/scan", {"auto_fix": "true"})):
            resp = await w.post(path, **params)
            assert (resp.status_code, resp.json()) == (503, {"detail": "Fix generator not configured"}), path
        assert w.anthropic.requests == []


async def seed_pattern(world: World, message: str, error_type: str = "TimeoutError") -> str:
    world.errors((message, error_type))
    await world.post("/error-monitor/monitor/scan")
    return next(p["id"] for p in (await world.get("/error-monitor/errors/patterns")).json()["patterns"]
                if p["message"] == message)


async def test_a_fix_is_two_calls_1024_then_2048_redacted_and_stored_pending(world: World) -> None:
    key = await seed_pattern(world, f"socket timeout for key {SEEDED_SECRET} of ada@example.com")
    world.script_fix()
    resp = await world.post("/error-monitor/fixes/generate-for-error", error_id=key)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "success"
    fix = body["fix"]
    assert (fix["status"], fix["pr_url"], fix["error_pattern_id"], fix["model"]) == ("pending", None, key, MODEL)
    assert fix["analysis"] == "The read times out under load."
    assert fix["code_changes"] == FIX_JSON["code_changes"] and fix["files_affected"] == FIX_JSON["files_affected"]
    assert [r.json["max_tokens"] for r in world.anthropic.requests] == [1024, 2048]
    assert all(KEY in (r.headers.get("x-api-key") or r.headers.get("authorization", ""))
               for r in world.anthropic.requests)  # the key is sent as a header, never in a body
    sent = json.dumps([r.json for r in world.anthropic.requests])
    assert SEEDED_SECRET not in sent and "ada@example.com" not in sent and "[REDACTED_GATEWAY_KEY]" in sent
    assert (await world.get(f"/error-monitor/fixes/{fix['id']}")).json()["fix"] == fix
    listed = (await world.get("/error-monitor/fixes/generated")).json()
    assert listed["total_fixes"] == 1 and listed["fixes"][0]["id"] == fix["id"]
    status = (await world.get("/error-monitor/autonomous/status")).json()["monitor"]
    assert status["errors_since_last_fix"] == 0


async def test_an_error_type_finds_the_most_recently_seen_pattern_and_unknown_is_404(world: World) -> None:
    await seed_pattern(world, "first KeyError", "KeyError")
    newer = await seed_pattern(world, "second KeyError", "KeyError")
    world.script_fix()
    fix = (await world.post("/error-monitor/fixes/generate-for-error", error_id="KeyError")).json()["fix"]
    assert fix["error_pattern_id"] == newer
    resp = await world.post("/error-monitor/fixes/generate-for-error", error_id="NoSuchError")
    assert (resp.status_code, resp.json()) == (404, {"detail": "Error pattern not found"})
    resp = await world.get(f"/error-monitor/fixes/{uuid.uuid4()}")
    assert (resp.status_code, resp.json()) == (404, {"detail": "Fix not found"})
    assert (await world.get("/error-monitor/fixes/not-a-uuid")).status_code == 404


async def test_a_reply_that_is_not_json_is_a_502(world: World) -> None:
    key = await seed_pattern(world, "socket timeout")
    world.script_fix(fix="Sure! Here is the fix: change things.")
    resp = await world.post("/error-monitor/fixes/generate-for-error", error_id=key)
    assert (resp.status_code, resp.json()) == (502, {"detail": "Failed to generate fix"})
    [failed] = (await world.get("/error-monitor/fixes/generated")).json()["fixes"]
    assert failed["status"] == "failed" and "not JSON" in failed["error"]


async def test_the_hourly_budget_is_a_429(backend: dict[str, Any], fakes: Fakes) -> None:
    async for w in make_world(backend, fakes, ERROR_MONITOR_MAX_FIXES_PER_HOUR="2"):
        key = await seed_pattern(w, "socket timeout")
        for _ in range(2):
            w.script_fix()
            assert (await w.post("/error-monitor/fixes/generate-for-error", error_id=key)).status_code == 200
        calls = len(w.anthropic.requests)
        resp = await w.post("/error-monitor/fixes/generate-for-error", error_id=key)
        assert resp.status_code == 429
        assert len(w.anthropic.requests) == calls


async def test_create_pr_opens_a_draft_pull_request_and_the_refresh_sees_it_merged(world: World) -> None:
    existing_sha = world.github.put_file("main", "adapters/providers/upstream.py", "RETRIES = 1\n")
    key = await seed_pattern(world, f"socket timeout {SEEDED_SECRET}")
    fix_json = {**FIX_JSON, "code_changes": {"adapters/providers/upstream.py": "RETRIES = 3\n",
                                             "domain/retries.py": "BACKOFF = 2\n"}}
    world.script_fix(fix=fix_json)
    resp = await world.post("/error-monitor/fixes/generate-for-error", error_id=key, create_pr="true")
    body = resp.json()
    assert (body["status"], body["message"]) == ("processing", "Fix generation started in background")
    await (await world.generator()).wait()
    fix = (await world.get(f"/error-monitor/fixes/{body['fix_id']}")).json()["fix"]
    assert fix["status"] == "testing", fix
    branch = f"gatewayz/fix-{body['fix_id'][:8]}"
    assert (fix["branch"], fix["pr_number"]) == (branch, 1)
    assert fix["pr_url"] == f"https://github.com/{world.github.repository}/pull/1"
    pull = world.github.pulls[1]
    assert pull["draft"] is True and pull["head"] == branch and pull["base"] == "main"
    assert world.github.branches[branch]["adapters/providers/upstream.py"][0] == "RETRIES = 3\n"
    assert world.github.branches[branch]["domain/retries.py"][0] == "BACKOFF = 2\n"
    puts = [r for r in world.github.requests if r.method == "PUT"]
    assert {r.path.split("/contents/")[1]: r.body.get("sha") for r in puts} == {
        "adapters/providers/upstream.py": existing_sha, "domain/retries.py": None}
    assert all(r.headers["authorization"] == f"Bearer {world.github.token}" for r in world.github.requests)
    sent = json.dumps([r.body for r in world.github.requests])
    assert world.github.token not in sent and KEY not in sent and SEEDED_SECRET not in sent
    assert "[REDACTED_GATEWAY_KEY]" in pull["title"]
    refresh = await world.app.service("refresh_pull_requests")
    assert await refresh() == 0
    world.github.merge(1)
    assert await refresh() == 1
    assert (await world.get(f"/error-monitor/fixes/{body['fix_id']}")).json()["fix"]["status"] == "merged"


@pytest.mark.parametrize("path", [".github/workflows/x.yml", "../x"])
async def test_a_fix_outside_the_allowed_paths_gets_no_pull_request(world: World, path: str) -> None:
    key = await seed_pattern(world, "socket timeout")
    world.script_fix(fix={**FIX_JSON, "code_changes": {"adapters/x.py": "x\n", path: "evil\n"}})
    fix_id = (await world.post(GENERATE, error_id=key, create_pr="true")).json()["fix_id"]
    await (await world.generator()).wait()
    fix = (await world.get(f"/error-monitor/fixes/{fix_id}")).json()["fix"]
    assert fix["status"] == "pending" and fix["pr_url"] is None and path in fix["error"]
    assert fix["code_changes"][path] == "evil\n"  # stored, never sent
    assert world.github.requests == []


async def test_without_a_github_token_the_fix_stays_pending(backend: dict[str, Any],
                                                            fakes: Fakes) -> None:
    async for w in make_world(backend, fakes, GITHUB_TOKEN=None):
        key = await seed_pattern(w, "socket timeout")
        w.script_fix()
        fix_id = (await w.post(GENERATE, error_id=key, create_pr="true")).json()["fix_id"]
        await (await w.generator()).wait()
        fix = (await w.get(f"/error-monitor/fixes/{fix_id}")).json()["fix"]
        assert (fix["status"], fix["error"]) == ("pending", "GitHub not configured")
        assert w.github.requests == []


async def test_batches_sync_and_in_the_background(world: World) -> None:
    a = await seed_pattern(world, "socket timeout")
    await seed_pattern(world, "Redis refused", "ConnectionError")
    world.script_fix()
    world.script_fix(fix="not json")
    resp = await world.app.client.post("/error-monitor/fixes/generate-batch",
                                       params=[("error_ids", a), ("error_ids", "ConnectionError")],
                                       headers=bearer(world.admin))
    body = resp.json()
    assert body["status"] == "success" and body["count"] == 1 and len(body["fixes"]) == 1  # the failure dropped
    assert (await world.post("/error-monitor/fixes/generate-batch", error_ids="Nothing")).status_code == 404
    world.script_fix()
    resp = (await world.post("/error-monitor/fixes/generate-batch", error_ids=a, create_prs="true")).json()
    assert resp["status"] == "processing" and resp["count"] == 1 and len(resp["fix_ids"]) == 1
    assert resp["message"] == "Processing 1 errors in background"
    await (await world.generator()).wait()


async def test_monitor_start_stores_the_desired_state_and_stop_clears_it(world: World) -> None:
    resp = (await world.post("/error-monitor/monitor/start", interval=120)).json()
    assert resp == {"status": "started", "interval_seconds": 120,
                    "message": "Continuous monitoring started in background"}
    await world.post("/error-monitor/monitor/start", interval=600)
    monitor = (await world.get("/error-monitor/autonomous/status")).json()["monitor"]
    assert (monitor["enabled"], monitor["scan_interval"]) == (True, 600)
    for interval in (59, 3601):
        assert (await world.post("/error-monitor/monitor/start", interval=interval)).status_code == 422
    assert (await world.post("/error-monitor/monitor/stop")).json() == {
        "status": "stopped", "message": "Continuous monitoring stopped"}
    monitor = (await world.get("/error-monitor/autonomous/status")).json()["monitor"]
    assert (monitor["enabled"], monitor["running"]) == (False, False)
