"""MonitoringScheduler: one loop however often it is started, jobs on their intervals only while
leading, failures and timeouts counted without ending the loop, one leader among schedulers."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from adapters.memory.clock import FixedClock
from adapters.memory.leader import MemoryLeaderLock
from adapters.scheduler.monitoring import Job, MonitoringScheduler, every
from domain.errors import ServiceUnavailable


def runs(registry: CollectorRegistry, job: str, result: str) -> float:
    return registry.get_sample_value("gatewayz_monitor_job_runs_total", {"job": job, "result": result}) or 0.0


class Recorder:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> None:
        self.calls += 1


async def test_a_job_runs_once_per_interval_and_only_after_its_first_interval() -> None:
    clock, registry, job = FixedClock(), CollectorRegistry(), Recorder()
    scheduler = MonitoringScheduler(None, clock, registry)
    scheduler.add(Job("j", job, every(30)))
    await scheduler.tick(wait=True)
    assert job.calls == 0  # became due: first run one interval later
    for _ in range(3):
        clock.advance(10)
        await scheduler.tick(wait=True)
    assert job.calls == 1
    clock.advance(29)
    await scheduler.tick(wait=True)
    assert job.calls == 1
    clock.advance(1)
    await scheduler.tick(wait=True)
    assert job.calls == 2
    assert runs(registry, "j", "ok") == 2
    assert registry.get_sample_value("gatewayz_monitor_leader") == 1  # without Redis the single process leads


async def test_failures_and_timeouts_are_counted_and_never_stop_the_others() -> None:
    clock, registry, fine = FixedClock(), CollectorRegistry(), Recorder()

    async def boom() -> None:
        raise RuntimeError("boom")

    async def stall() -> None:
        await asyncio.sleep(10)

    scheduler = MonitoringScheduler(None, clock, registry)
    scheduler.add(Job("boom", boom, every(1)))
    scheduler.add(Job("stall", stall, every(1), timeout_s=0.05))
    scheduler.add(Job("fine", fine, every(1)))
    await scheduler.tick()
    for _ in range(2):
        clock.advance(1)
        await scheduler.tick(wait=True)
    assert (runs(registry, "boom", "error"), runs(registry, "stall", "timeout"), fine.calls) == (2, 2, 2)


async def test_a_slow_run_is_never_overlapped_by_the_next() -> None:
    clock, gate = FixedClock(), asyncio.Event()
    started = 0

    async def slow() -> None:
        nonlocal started
        started += 1
        await gate.wait()

    scheduler = MonitoringScheduler(None, clock, CollectorRegistry())
    scheduler.add(Job("slow", slow, every(1)))
    await scheduler.tick()
    clock.advance(1)
    await scheduler.tick()
    await asyncio.sleep(0)
    assert scheduler.is_running("slow")
    for _ in range(3):
        clock.advance(1)
        await scheduler.tick()
    await asyncio.sleep(0)
    assert started == 1
    gate.set()
    await asyncio.sleep(0.01)
    assert not scheduler.is_running("slow")


async def test_start_twice_is_one_loop_and_stop_cancels_and_awaits_it() -> None:
    scheduler = MonitoringScheduler(None, FixedClock(), CollectorRegistry(), tick_s=0.01)
    before = {t.get_name() for t in asyncio.all_tasks()}
    await scheduler.start()
    await scheduler.start()
    loops = [t for t in asyncio.all_tasks() if t.get_name() == "gatewayz-monitoring" and t.get_name() not in before]
    assert len(loops) == 1
    await scheduler.stop()
    assert loops[0].done() and not scheduler.running


async def test_of_schedulers_sharing_a_lock_only_the_leader_runs_and_a_stop_hands_over() -> None:
    clock = FixedClock()
    lock = MemoryLeaderLock(clock)
    registries = [CollectorRegistry(), CollectorRegistry()]
    jobs = [Recorder(), Recorder()]
    schedulers = [MonitoringScheduler(lock, clock, r, owner=f"p{i}") for i, r in enumerate(registries)]
    for s, j in zip(schedulers, jobs, strict=True):
        s.add(Job("j", j, every(5)))
    for _ in range(10):
        for s in schedulers:
            await s.tick(wait=True)
        clock.advance(5)
    assert (jobs[0].calls, jobs[1].calls) == (9, 0)
    assert [r.get_sample_value("gatewayz_monitor_leader") for r in registries] == [1, 0]
    await schedulers[0].stop()
    for _ in range(3):
        await schedulers[1].tick(wait=True)
        clock.advance(5)
    assert schedulers[1].is_leader and jobs[1].calls == 2


class Unreachable:
    async def acquire(self, owner: str, ttl_s: float) -> bool:
        raise ServiceUnavailable("Redis unavailable", reason="redis")

    async def release(self, owner: str) -> None:
        raise ServiceUnavailable("Redis unavailable", reason="redis")

    async def holder(self) -> str | None:
        raise ServiceUnavailable("Redis unavailable", reason="redis")


async def test_without_the_lock_only_jobs_that_detect_that_outage_run() -> None:
    clock, checks, scans = FixedClock(), Recorder(), Recorder()
    scheduler = MonitoringScheduler(Unreachable(), clock, CollectorRegistry())
    scheduler.add(Job("checks", checks, every(5), without_lock=True))
    scheduler.add(Job("scans", scans, every(5)))
    for _ in range(3):
        await scheduler.tick(wait=True)
        clock.advance(5)
    assert (checks.calls, scans.calls, scheduler.is_leader) == (2, 0, False)
    await scheduler.stop()  # the release failing is not an error


async def test_a_job_switched_off_does_not_run_and_starts_its_interval_afresh_when_switched_on() -> None:
    clock, job = FixedClock(), Recorder()
    interval: list[float | None] = [None]

    async def current() -> float | None:
        return interval[0]

    scheduler = MonitoringScheduler(None, clock, CollectorRegistry())
    scheduler.add(Job("scan", job, current))
    for _ in range(3):
        await scheduler.tick(wait=True)
        clock.advance(60)
    assert job.calls == 0
    interval[0] = 60
    await scheduler.tick(wait=True)
    clock.advance(60)
    await scheduler.tick(wait=True)
    assert job.calls == 1
    with pytest.raises(ValueError):
        scheduler.add(Job("scan", job, current))


class SwallowsCancellation:
    """As redis-py does: a cancellation inside a command comes out as the client's own error."""

    async def acquire(self, owner: str, ttl_s: float) -> bool:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            raise ServiceUnavailable("Redis unavailable", reason="redis") from None
        return True

    async def release(self, owner: str) -> None:
        pass

    async def holder(self) -> str | None:
        return None


async def test_stop_ends_the_loop_even_when_a_client_swallows_the_cancellation() -> None:
    scheduler = MonitoringScheduler(SwallowsCancellation(), FixedClock(), CollectorRegistry(), tick_s=0.05)
    await scheduler.start()
    await asyncio.sleep(0.05)  # inside acquire
    await asyncio.wait_for(scheduler.stop(), 5)
    assert not scheduler.running
