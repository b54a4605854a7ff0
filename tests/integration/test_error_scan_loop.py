"""The scan loop in two gateway apps sharing PostgreSQL and Redis (the lifespan's loops off; the test
moves one clock and ticks both schedulers): a second start changes the interval and never doubles
the scans, stop stops them, one scan per interval across the fleet, and the desired state survives
a restart."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import delete

from adapters.memory.clock import FixedClock
from adapters.postgres.engine import create_engine
from adapters.postgres.tables import error_monitor_state, error_patterns
from adapters.scheduler.monitoring import MonitoringScheduler
from gatewayz import monitoring
from gatewayz.container import resolve
from tests.fakes.loki import FakeLoki
from tests.harness import Running, bearer, running_app

pytestmark = pytest.mark.services


class Fleet:
    def __init__(self, apps: list[Running], loki: FakeLoki, admin: str) -> None:
        self.apps = apps
        self.loki = loki
        self.admin = admin
        self.clock = FixedClock()
        self.schedulers: list[MonitoringScheduler] = []

    async def start(self) -> None:
        for app in self.apps:
            area = app.container.error_monitoring
            area.clock.override(self.clock)
            for built in ("monitor", "scan_errors", "scheduled_scan"):
                getattr(area, built).reset()
            jobs = await resolve(area.jobs)
            self.schedulers.append(monitoring.scheduler(await app.service("leader_lock"), self.clock,
                                                        CollectorRegistry(), jobs))

    async def post(self, path: str, **params: Any) -> Any:
        return await self.apps[0].client.post(path, params=params, headers=bearer(self.admin))

    def scans(self) -> int:
        return sum(1 for r in self.loki.requests if r.params["direction"] == "forward")

    async def run(self, seconds: float, step: float = 5.0) -> int:
        """Scans made while `seconds` pass."""
        before = self.scans()
        for _ in range(int(seconds // step)):
            for s in self.schedulers:
                await s.tick(wait=True)
            self.clock.advance(step)
        return self.scans() - before


@pytest.fixture
async def fleet(postgres_url: str, redis_url: str) -> AsyncIterator[Fleet]:
    engine = create_engine(postgres_url)
    async with engine.begin() as conn:
        for table in (error_patterns, error_monitor_state):
            await conn.execute(delete(table))
    await engine.dispose()
    async with FakeLoki() as loki, AsyncExitStack() as stack:
        env = {"REDIS_URL": redis_url, "REDIS_PREFIX": f"gwtest-{uuid.uuid4().hex[:8]}:",
               "MONITORING_ENABLED": "false", "LOKI_QUERY_URL": loki.url}
        apps = [await stack.enter_async_context(running_app(postgres_url, **env)) for _ in range(2)]
        _, admin = await apps[0].user(f"root-{uuid.uuid4().hex[:8]}@example.com", admin=True)
        fleet = Fleet(apps, loki, admin)
        await fleet.start()
        yield fleet
        for s in fleet.schedulers:
            await s.stop()


async def test_start_twice_never_doubles_the_scans_and_stop_stops_them(fleet: Fleet) -> None:
    assert await fleet.run(600) == 0  # not started
    assert (await fleet.post("/error-monitor/monitor/start", interval=60)).status_code == 200
    once = await fleet.run(600)
    await fleet.post("/error-monitor/monitor/start", interval=60)
    twice = await fleet.run(600)
    assert 9 <= once <= 10 and 9 <= twice <= 10, (once, twice)  # one scan per minute across two processes
    await fleet.post("/error-monitor/monitor/start", interval=120)
    await fleet.run(10)  # the interval is read again within seconds
    slower = await fleet.run(600)
    assert 4 <= slower <= 5, slower
    await fleet.post("/error-monitor/monitor/stop")
    await fleet.run(10)
    assert await fleet.run(600) == 0
    print(f"\nscan loop, two processes: {once} scans / 10 min at 60 s, {twice} after a second start, "
          f"{slower} at 120 s, 0 after stop")


async def test_the_desired_state_survives_a_restart(postgres_url: str, redis_url: str, fleet: Fleet) -> None:
    await fleet.post("/error-monitor/monitor/start", interval=900)
    async with running_app(postgres_url, REDIS_URL=redis_url, REDIS_PREFIX=f"gwtest-{uuid.uuid4().hex[:8]}:",
                           MONITORING_ENABLED="false") as fresh:
        resp = await fresh.client.get("/error-monitor/autonomous/status", headers=bearer(fleet.admin))
        monitor = resp.json()["monitor"]
        assert (monitor["enabled"], monitor["scan_interval"]) == (True, 900)


def monitoring_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "gatewayz-monitoring" and not t.done()]


async def test_one_monitoring_task_per_process_however_often_monitoring_is_started(sqlite_url: str) -> None:
    before = len(monitoring_tasks())
    async with running_app(sqlite_url) as app:
        _, admin = await app.user("root@example.com", admin=True)
        assert len(monitoring_tasks()) == before + 1
        for interval in (60, 120, 60):
            assert (await app.client.post("/error-monitor/monitor/start", params={"interval": interval},
                                          headers=bearer(admin))).status_code == 200
        assert len(monitoring_tasks()) == before + 1
        scheduler = await app.service("monitoring_scheduler")
        assert scheduler.jobs == ["incident_checks", "incident_log_captures", "error_scans", "pull_request_refresh"]
        assert scheduler.running
    assert len(monitoring_tasks()) == before  # the lifespan cancelled and awaited it
    assert not scheduler.running
