"""MonitoringScheduler: the one background loop of the monitoring jobs (incident checks, error
scans, due log captures, pull-request refreshes; later issues add theirs to it).

One asyncio task per process, started and stopped by the app's lifespan. A leader lock
(`gatewayz:monitor:leader` in Redis, 15 s TTL renewed every 5 s) makes exactly one process of the
fleet run the jobs; without Redis the single process leads. Each run has a timeout; a failure is
logged and counted and never ends the loop. A job runs again only after its previous run ended."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge

from domain.errors import GatewayError
from ports.clock import Clock
from ports.leader import LeaderLock

log = structlog.get_logger("gatewayz.monitor")

Interval = Callable[[], Awaitable[float | None]]  # seconds between runs; None: the job is off for now


def every(seconds: float) -> Interval:
    async def interval() -> float:
        return seconds

    return interval


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    run: Callable[[], Awaitable[object]]
    interval: Interval
    timeout_s: float = 60.0
    without_lock: bool = False  # also runs when the lock's store is unreachable (detects that outage)


class MonitoringScheduler:
    def __init__(self, lock: LeaderLock | None, clock: Clock, registry: CollectorRegistry | None = None, *,
                 ttl_s: float = 15.0, renew_s: float = 5.0, tick_s: float = 1.0, owner: str | None = None) -> None:
        self._lock = lock
        self._clock = clock
        self._ttl = ttl_s
        self._renew = renew_s
        self._tick = tick_s
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._jobs: dict[str, Job] = {}
        self._last_run: dict[str, float] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._next_election = 0.0
        self.is_leader = False
        self.lock_lost = False  # the lock's store did not answer at the last election
        self._runs = Counter("gatewayz_monitor_job_runs", "Monitoring job runs by outcome",
                             ["job", "result"], registry=registry)
        self._leader = Gauge("gatewayz_monitor_leader", "1 while this process leads the monitoring jobs",
                             registry=registry)

    def add(self, job: Job) -> None:
        if job.name in self._jobs:
            raise ValueError(f"job {job.name!r} is scheduled already")
        self._jobs[job.name] = job

    @property
    def jobs(self) -> list[str]:
        return list(self._jobs)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def is_running(self, job: str) -> bool:
        """A run of `job` is in progress in this process."""
        return job in self._running

    async def start(self) -> None:
        """Idempotent: a second call never adds a second loop."""
        if self.running:
            return
        self._stopping = False
        self._task = asyncio.create_task(self._loop(), name="gatewayz-monitoring")

    async def stop(self) -> None:
        """Cancels and awaits the loop. A cancellation that lands inside a client call can be turned
        into that client's own error (redis-py does) and swallowed by the loop's error handling, so
        the cancel is repeated until the task has really ended."""
        task, self._task = self._task, None
        self._stopping = True
        if task is not None:
            while not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=1.0)
            with contextlib.suppress(asyncio.CancelledError):
                task.result()
        runs = list(self._running.values())
        for run in runs:
            run.cancel()
        await asyncio.gather(*runs, return_exceptions=True)
        if self.is_leader and self._lock is not None:
            with contextlib.suppress(GatewayError):
                await self._lock.release(self.owner)
        self._set_leader(False)

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                await self.tick()
            except Exception:  # never let the loop die: the next tick tries again
                log.exception("monitor_tick_failed")
            await asyncio.sleep(self._tick)

    async def tick(self, *, wait: bool = False) -> None:
        """Renew or contest the leadership when due, then start every due job (awaited when `wait`,
        for tests)."""
        now = self._clock.monotonic()
        if now >= self._next_election:
            await self._elect()
            self._next_election = now + self._renew
        started = []
        for job in self._jobs.values():
            if not (self.is_leader or (self.lock_lost and job.without_lock)) or job.name in self._running:
                continue
            interval = await job.interval()
            if interval is None:
                self._last_run.pop(job.name, None)
                continue
            last = self._last_run.setdefault(job.name, now)  # first run one interval after it became due
            if now - last < interval:
                continue
            self._last_run[job.name] = now
            task = asyncio.create_task(self._run(job), name=f"gatewayz-monitor-{job.name}")
            self._running[job.name] = task
            started.append(task)
        if wait and started:
            await asyncio.gather(*started)

    async def _elect(self) -> None:
        if self._lock is None:
            self.lock_lost = False
            self._set_leader(True)
            return
        try:
            leader = await self._lock.acquire(self.owner, self._ttl)
        except GatewayError as exc:
            if not self.lock_lost:
                log.warning("monitor_lock_unreachable", error=exc.message)
            self.lock_lost = True
            self._set_leader(False)
            return
        self.lock_lost = False
        if leader != self.is_leader:
            log.info("monitor_leadership", leader=leader, owner=self.owner)
        self._set_leader(leader)

    def _set_leader(self, leader: bool) -> None:
        if leader != self.is_leader:
            self._last_run.clear()  # leadership changed hands: the schedule starts afresh
        self.is_leader = leader
        self._leader.set(1 if leader else 0)

    async def _run(self, job: Job) -> None:
        result = "ok"
        try:
            await asyncio.wait_for(job.run(), job.timeout_s)
        except TimeoutError:
            result = "timeout"
            log.warning("monitor_job_timeout", job=job.name, timeout_s=job.timeout_s)
        except asyncio.CancelledError:
            result = "cancelled"
            raise
        except Exception:
            result = "error"
            log.exception("monitor_job_failed", job=job.name)
        finally:
            self._running.pop(job.name, None)
            self._runs.labels(job=job.name, result=result).inc()
