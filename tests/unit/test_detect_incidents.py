"""Incident detection with a hand-moved clock and scripted check verdicts: three failures open one
incident, three passes resolve it with the right times, a database outage is held and then written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from adapters.memory.clock import FixedClock
from adapters.memory.incidents import MemoryHeldIncidents, MemoryIncidentRepository
from domain.errors import ServiceUnavailable
from domain.incidents import CheckName, CheckOutcome, Incident, IncidentStatus, Severity
from domain.services.detect_incidents import DetectIncidents

INTERVAL = 30


class Checks:
    """The verdicts the next run returns, per check (pass unless told)."""

    def __init__(self) -> None:
        self.failing: dict[CheckName, CheckOutcome] = {}

    def fail(self, check: CheckName, severity: Severity = Severity.HIGH) -> None:
        self.failing[check] = CheckOutcome(check=check, ok=False, severity=severity, http_status_code=503,
                                           error_message=f"{check}: timeout", response_body='{"status":"unavailable"}')

    def heal(self, check: CheckName) -> None:
        self.failing.pop(check, None)

    async def __call__(self) -> list[CheckOutcome]:
        return [self.failing.get(c, CheckOutcome(check=c, ok=True)) for c in (CheckName.DATABASE, CheckName.REDIS)]


class World:
    def __init__(self) -> None:
        self.clock = FixedClock()
        self.checks = Checks()
        self.repo = MemoryIncidentRepository()
        self.held = MemoryHeldIncidents()
        self.sent: list[tuple[str, str]] = []

        async def snapshot() -> dict[str, Any]:
            return {"in_flight_requests": 3}

        async def notify(event: str, incident: Incident) -> None:
            self.sent.append((event, incident.id))

        self.detect = DetectIncidents(self.checks, self.repo, self.held, self.clock, environment="production",
                                      server_info={"hostname": "h", "pid": 1, "version": "t"}, snapshot=snapshot,
                                      notify=notify)

    async def run(self, times: int = 1) -> None:
        for _ in range(times):
            await self.detect()
            self.clock.advance(INTERVAL)


async def test_three_failures_in_a_row_open_exactly_one_incident_and_three_passes_resolve_it() -> None:
    w = World()
    start = w.clock.now()
    w.checks.fail(CheckName.REDIS, Severity.MEDIUM)
    await w.run(2)
    assert w.repo.rows == {}
    await w.run(5)  # the third failure opens; the next ones change nothing
    [incident] = w.repo.rows.values()
    assert (incident.check, incident.status, incident.severity, incident.environment) == (
        CheckName.REDIS, IncidentStatus.ONGOING, Severity.MEDIUM, "production")
    assert incident.started_at == start and incident.detected_at == start + timedelta(seconds=2 * INTERVAL)
    assert (incident.health_endpoint, incident.http_status_code, incident.error_message) == (
        "/health/ready", 503, "redis: timeout")
    assert incident.server_info == {"hostname": "h", "pid": 1, "version": "t"}
    assert incident.metrics_snapshot == {"in_flight_requests": 3}
    assert incident.capture_due_at == incident.detected_at  # the opening capture
    w.checks.heal(CheckName.REDIS)
    healed = w.clock.now()
    await w.run(2)
    assert w.repo.rows[incident.id].status is IncidentStatus.ONGOING
    await w.run(1)
    resolved = w.repo.rows[incident.id]
    assert resolved.status is IncidentStatus.RESOLVED and resolved.ended_at == healed
    assert resolved.duration_seconds == 7 * INTERVAL and resolved.resolved_by == "system:auto"
    assert resolved.capture_due_at == healed + timedelta(minutes=5)  # the post-incident capture
    assert w.sent == [("opened", incident.id), ("resolved", incident.id)]


async def test_a_pass_between_failures_restarts_the_count() -> None:
    w = World()
    for _ in range(3):
        w.checks.fail(CheckName.DATABASE)
        await w.run(2)
        w.checks.heal(CheckName.DATABASE)
        await w.run(1)
    assert w.repo.rows == {}


async def test_a_database_outage_is_held_and_written_with_its_original_times() -> None:
    w = World()
    start = w.clock.now()
    w.repo.down = True
    w.checks.fail(CheckName.DATABASE, Severity.CRITICAL)
    await w.run(4)
    [held] = await w.held.held()
    assert held.started_at == start and held.status is IncidentStatus.ONGOING
    w.checks.heal(CheckName.DATABASE)
    healed = w.clock.now()
    await w.run(3)  # resolved while held: still not written
    assert w.repo.rows == {}
    [held] = await w.held.held()
    assert held.status is IncidentStatus.RESOLVED and held.ended_at == healed
    w.repo.down = False
    await w.run(1)
    [written] = w.repo.rows.values()
    assert (written.started_at, written.detected_at, written.ended_at) == (
        start, start + timedelta(seconds=2 * INTERVAL), healed)
    assert written.duration_seconds == 4 * INTERVAL and written.severity is Severity.CRITICAL
    assert await w.held.held() == []
    assert [e for e, _ in w.sent] == ["opened", "resolved"]


async def test_a_held_incident_is_written_as_soon_as_the_database_answers_while_still_ongoing() -> None:
    w = World()
    w.repo.down = True
    w.checks.fail(CheckName.DATABASE, Severity.CRITICAL)
    await w.run(3)
    w.repo.down = False
    await w.run(1)
    [written] = w.repo.rows.values()
    assert written.status is IncidentStatus.ONGOING and await w.held.held() == []


class DownHeld(MemoryHeldIncidents):
    async def hold(self, incident: Incident) -> None:
        raise ServiceUnavailable("Redis unavailable", reason="redis")

    async def held(self) -> list[Incident]:
        raise ServiceUnavailable("Redis unavailable", reason="redis")


async def test_with_redis_down_too_the_incident_is_held_in_this_process() -> None:
    w = World()
    w.detect._held = DownHeld()  # both stores lost
    w.repo.down = True
    w.checks.fail(CheckName.DATABASE)
    await w.run(3)
    w.repo.down = False
    await w.run(1)
    assert len(w.repo.rows) == 1


async def test_a_new_leader_resolves_an_incident_opened_by_the_previous_one() -> None:
    w = World()
    w.checks.fail(CheckName.REDIS)
    await w.run(3)
    successor = World()
    successor.repo, successor.clock = w.repo, w.clock
    successor.detect._repo, successor.detect._clock = w.repo, w.clock
    await successor.run(3)  # passing from its first run
    [incident] = w.repo.rows.values()
    assert incident.status is IncidentStatus.RESOLVED


async def test_an_outage_while_another_incident_of_the_check_is_ongoing_opens_nothing_new() -> None:
    w = World()
    w.checks.fail(CheckName.REDIS)
    await w.run(3)
    other = World()
    other.detect._repo = w.repo
    other.checks.fail(CheckName.REDIS)
    await other.run(3)
    assert len(w.repo.rows) == 1
