"""DetectIncidents: the leader's incident check. A check failing `open_after` times in a row opens one
ongoing incident for it; `resolve_after` passes in a row resolve it. While the database is down the
incident is held (in Redis when available, else in this process) and written with its original
times once the database answers."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec

from domain.errors import ServiceUnavailable
from domain.incidents import (
    CAPTURE_TAIL_S,
    SYSTEM_RESOLVER,
    CheckName,
    CheckOutcome,
    Incident,
    IncidentStatus,
    duration_seconds,
)
from ports.clock import Clock
from ports.incidents import HeldIncidents, IncidentRepository

Notify = Callable[[str, Incident], Awaitable[None]]  # ("opened" | "resolved", incident)


@dataclass
class _Streak:
    failures: int = 0
    passes: int = 0
    since: datetime | None = None  # the first check of the current streak
    settled: bool = True           # the streak's action (open or resolve) is done
    last: CheckOutcome | None = None


class DetectIncidents:
    def __init__(self, checks: Callable[[], Awaitable[list[CheckOutcome]]], repo: IncidentRepository,
                 held: HeldIncidents, clock: Clock, *, environment: str, server_info: dict[str, Any],
                 snapshot: Callable[[], Awaitable[dict[str, Any]]], open_after: int = 3, resolve_after: int = 3,
                 notify: Notify | None = None) -> None:
        self._checks = checks
        self._repo = repo
        self._held = held
        self._local: dict[CheckName, Incident] = {}  # held here when the held store is unreachable too
        self._clock = clock
        self._environment = environment
        self._server_info = server_info
        self._snapshot = snapshot
        self._open_after = open_after
        self._resolve_after = resolve_after
        self._notify = notify
        self._streaks: dict[CheckName, _Streak] = {}

    async def __call__(self) -> None:
        outcomes = await self._checks()
        now = self._clock.now()
        await self._write_held()
        for outcome in outcomes:
            if outcome.ok is None:
                continue
            streak = self._streaks.setdefault(outcome.check, _Streak())
            if outcome.ok:
                if streak.passes == 0:
                    streak.failures, streak.since, streak.settled = 0, now, False
                streak.passes += 1
                if streak.passes >= self._resolve_after and not streak.settled:
                    streak.settled = await self._resolve(outcome.check, ended_at=streak.since or now)
            else:
                if streak.failures == 0:
                    streak.passes, streak.since, streak.settled = 0, now, False
                streak.failures += 1
                streak.last = outcome
                if streak.failures >= self._open_after and not streak.settled:
                    streak.settled = await self._open(outcome, started_at=streak.since or now, now=now)

    async def _open(self, outcome: CheckOutcome, *, started_at: datetime, now: datetime) -> bool:
        try:
            snapshot = await self._snapshot()
        except Exception:  # a snapshot is context, never a reason not to open
            snapshot = {}
        incident = Incident(
            id=str(uuid.uuid4()), started_at=started_at, detected_at=now, check=outcome.check,
            severity=outcome.severity, environment=self._environment, health_endpoint=outcome.health_endpoint,
            error_message=outcome.error_message, http_status_code=outcome.http_status_code,
            response_body=outcome.response_body, server_info=dict(self._server_info), metrics_snapshot=snapshot,
            capture_due_at=now)  # the opening capture: [started_at − 5 min, now]
        try:
            if await self._repo.open(incident) is None:
                return True  # that check has an ongoing incident already (another leader's, or an earlier run's)
        except ServiceUnavailable:
            if await self._held_for(outcome.check) is None:
                await self._hold(incident)
            return True
        await self._tell("opened", incident)
        return True

    async def _resolve(self, check: CheckName, *, ended_at: datetime) -> bool:
        """False when the database could not be asked (the next check tries again)."""
        due = ended_at + timedelta(seconds=CAPTURE_TAIL_S)
        held = await self._held_for(check)
        if held is not None and held.status is IncidentStatus.ONGOING:
            await self._hold(msgspec.structs.replace(
                held, status=IncidentStatus.RESOLVED, ended_at=ended_at, resolved_by=SYSTEM_RESOLVER,
                duration_seconds=duration_seconds(held.started_at, ended_at), capture_due_at=due))
            await self._write_held()
            return True
        try:
            for incident in await self._repo.ongoing(check):
                resolved = await self._repo.resolve(incident.id, ended_at=max(ended_at, incident.started_at),
                                                    resolved_by=SYSTEM_RESOLVER, notes=None, capture_due_at=due)
                if resolved is not None:
                    await self._tell("resolved", resolved)
        except ServiceUnavailable:
            return False
        return True

    async def _write_held(self) -> None:
        for incident in await self._all_held():
            try:
                await self._repo.open(incident)  # None: an ongoing one of that check exists; it stands
            except ServiceUnavailable:
                return
            await self._release(incident.check)
            await self._tell("opened", incident)
            if incident.status is IncidentStatus.RESOLVED:
                await self._tell("resolved", incident)

    async def _tell(self, event: str, incident: Incident) -> None:
        if self._notify is not None:
            try:
                await self._notify(event, incident)
            except Exception:  # an alert that cannot be sent never undoes the incident
                pass

    # the held store, falling back to this process when it is unreachable
    async def _all_held(self) -> list[Incident]:
        try:
            shared = await self._held.held()
        except ServiceUnavailable:
            shared = []
        return [*shared, *self._local.values()]

    async def _held_for(self, check: CheckName) -> Incident | None:
        return next((i for i in await self._all_held() if i.check is check), None)

    async def _hold(self, incident: Incident) -> None:
        try:
            await self._held.hold(incident)
            self._local.pop(incident.check, None)
        except ServiceUnavailable:
            self._local[incident.check] = incident

    async def _release(self, check: CheckName) -> None:
        self._local.pop(check, None)
        try:
            await self._held.release(check)
        except ServiceUnavailable:
            pass
