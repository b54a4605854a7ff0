"""Incident detection end to end in two gateway apps sharing PostgreSQL and Redis, each with its own
MonitoringScheduler (the lifespan's loop is off; the test moves one clock and ticks both): only the
leader checks, one incident is opened, logs are captured at opening and after resolution."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import delete

from adapters.memory.clock import FixedClock
from adapters.postgres.engine import create_engine
from adapters.postgres.tables import downtime_incidents
from adapters.scheduler.monitoring import MonitoringScheduler
from domain.incidents import CheckName, CheckOutcome, IncidentFilter, IncidentStatus, Severity
from domain.logs import ns
from gatewayz import monitoring
from tests.fakes.loki import FakeLoki, structlog_line
from tests.fakes.smtp import FakeSmtp, text_body
from tests.harness import Running, running_app

pytestmark = pytest.mark.services
INTERVAL = 30


class Checks:
    def __init__(self) -> None:
        self.redis_down = False
        self.calls = 0

    async def __call__(self) -> list[CheckOutcome]:
        self.calls += 1
        return [CheckOutcome(check=CheckName.DATABASE, ok=True),
                CheckOutcome(check=CheckName.REDIS, ok=not self.redis_down, severity=Severity.MEDIUM,
                             http_status_code=503 if self.redis_down else None,
                             error_message="redis: timeout" if self.redis_down else None)]


class Fleet:
    def __init__(self, apps: list[Running], clock: FixedClock, loki: FakeLoki, smtp: FakeSmtp) -> None:
        self.apps = apps
        self.smtp = smtp
        self.clock = clock
        self.loki = loki
        self.checks = [Checks() for _ in apps]
        self.schedulers: list[MonitoringScheduler] = []

    async def start(self) -> None:
        for app, checks in zip(self.apps, self.checks, strict=True):
            app.container.incidents.clock.override(self.clock)
            app.container.incidents.health_checks.override(checks)
            for built in ("detect_incidents", "capture_logs"):  # built by the lifespan with the real ones
                getattr(app.container.incidents, built).reset()
            lock = await app.service("leader_lock")
            jobs = await app.service("jobs")
            self.schedulers.append(monitoring.scheduler(lock, self.clock, CollectorRegistry(), jobs))

    def redis_down(self, down: bool) -> None:
        for c in self.checks:
            c.redis_down = down

    async def run(self, seconds: float, step: float = 5.0) -> None:
        for _ in range(int(seconds // step)):
            for s in self.schedulers:
                await s.tick(wait=True)
            self.clock.advance(step)

    async def incidents(self) -> list[Any]:
        repo = await self.apps[0].service("incident_repository")
        return await repo.search(IncidentFilter(), 100)


@pytest.fixture
async def fleet(postgres_url: str, redis_url: str) -> AsyncIterator[Fleet]:
    engine = create_engine(postgres_url)
    async with engine.begin() as conn:
        await conn.execute(delete(downtime_incidents))
    await engine.dispose()
    prefix = f"gwtest-{uuid.uuid4().hex[:8]}:"
    smtp = FakeSmtp().start()
    async with FakeLoki() as loki, AsyncExitStack() as stack:
        env = {"REDIS_URL": redis_url, "REDIS_PREFIX": prefix, "MONITORING_ENABLED": "false",
               "LOKI_QUERY_URL": loki.url, "GATEWAYZ_ENVIRONMENT": "production",
               "ALERT_EMAILS": "oncall@example.com,sre@example.com", **smtp.env()}
        apps = [await stack.enter_async_context(running_app(postgres_url, **env)) for _ in range(2)]
        fleet = Fleet(apps, FixedClock(), loki, smtp)
        await fleet.start()
        yield fleet
        for s in fleet.schedulers:
            await s.stop()
    smtp.stop()


async def test_two_processes_open_one_incident_only_the_leader_checks_and_captures_run(fleet: Fleet) -> None:
    start = fleet.clock.now()
    start_ns = ns(start)
    fleet.loki.add({"app": "gatewayz-api"}, [(start_ns - 200 * 10**9, structlog_line("before", level="warning")),
                                             (start_ns + 10**9, structlog_line("redis timeout"))])
    await fleet.run(60)  # healthy
    fleet.redis_down(True)
    outage_start = fleet.clock.now()
    await fleet.run(120)
    [incident] = await fleet.incidents()
    leaders = [s.is_leader for s in fleet.schedulers]
    assert leaders.count(True) == 1
    leader = leaders.index(True)
    assert fleet.checks[1 - leader].calls == 0  # the other process never checked
    assert incident.check is CheckName.REDIS and incident.status is IncidentStatus.ONGOING
    assert incident.environment == "production" and incident.severity is Severity.MEDIUM
    # the first failing check falls on the first 30 s boundary at or after the outage began
    assert outage_start <= incident.started_at < outage_start + timedelta(seconds=INTERVAL)
    detection_delay = (incident.detected_at - incident.started_at).total_seconds()
    assert detection_delay == 2 * INTERVAL  # the third failure in a row opens it
    assert incident.server_info and incident.server_info["pid"] > 0
    assert "breaker_states" in (incident.metrics_snapshot or {})
    opened = await fleet.smtp.wait_for(2)  # the alert, once per ALERT_EMAILS address
    assert sorted(m["To"] for m in opened) == ["oncall@example.com", "sre@example.com"]
    assert opened[0]["Subject"] == "[production] Incident opened: redis (medium)"
    assert incident.id in text_body(opened[0])
    await fleet.run(30)  # the opening capture falls due
    repo = await fleet.apps[0].service("incident_repository")
    captured = await repo.get(incident.id)
    assert captured.log_count == 2
    assert fleet.loki.requests[0].params["start"] == str(ns(incident.started_at) - 300 * 10**9)
    fleet.redis_down(False)
    healed = fleet.clock.now()
    await fleet.run(120)
    resolved = await repo.get(incident.id)
    assert resolved.status is IncidentStatus.RESOLVED and resolved.resolved_by == "system:auto"
    assert healed <= resolved.ended_at < healed + timedelta(seconds=INTERVAL)
    assert resolved.duration_seconds == int((resolved.ended_at - resolved.started_at).total_seconds())
    mails = await fleet.smtp.wait_for(4)
    resolved_mail = [m for m in mails if "resolved" in m["Subject"]]
    assert len(resolved_mail) == 2 and f"Duration: {resolved.duration_seconds} s" in text_body(resolved_mail[0])
    captures_before = len(fleet.loki.requests)
    await fleet.run(300)  # five minutes after the end: the post-incident capture
    assert len(fleet.loki.requests) == captures_before + 1
    last = fleet.loki.requests[-1].params
    assert last["end"] == str(ns(resolved.ended_at + timedelta(minutes=5)) + 1)
    assert len(await fleet.incidents()) == 1
    print(f"\ntwo-process detection: leader=app{leader}, other app's checks={fleet.checks[1 - leader].calls}, "
          f"leader's checks={fleet.checks[leader].calls}, incidents opened=1, alert emails={len(mails)}, "
          f"detection delay={detection_delay:.0f}s (interval {INTERVAL}s, open after 3), "
          f"duration={resolved.duration_seconds}s, log captures={len(fleet.loki.requests)}")


async def test_when_the_leader_stops_the_other_process_takes_over(fleet: Fleet) -> None:
    await fleet.run(10)
    leader = [s.is_leader for s in fleet.schedulers].index(True)
    stopped = fleet.schedulers.pop(leader)
    await stopped.stop()  # releases the lock: the other takes over at its next election
    await fleet.run(10)
    assert fleet.schedulers[0].is_leader
    fleet.redis_down(True)
    await fleet.run(120)
    assert len(await fleet.incidents()) == 1
