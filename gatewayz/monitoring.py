"""Wiring of the monitoring loop and of the ports incident detection needs: which adapter serves
the leader lock, the held-incident store and the log source (chosen by settings), the metrics
snapshot an incident records, and the one MonitoringScheduler every area's jobs join."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import redis.asyncio as aioredis

from adapters.loki.source import LokiLogSource
from adapters.memory.incidents import MemoryHeldIncidents
from adapters.redis.incidents import RedisHeldIncidents
from adapters.redis.leader import RedisLeaderLock
from adapters.scheduler.monitoring import Job, MonitoringScheduler, every
from domain.services.capture_incident_logs import CaptureIncidentLogs
from domain.services.detect_incidents import DetectIncidents
from gatewayz.settings import Settings
from gatewayz.version import __version__
from ports.breakers import BreakerStore
from ports.clock import Clock
from ports.incidents import HeldIncidents
from ports.leader import LeaderLock


def leader_lock(client: aioredis.Redis | None, settings: Settings) -> LeaderLock | None:
    """Redis elects one leader per fleet; without Redis the single process leads (no lock)."""
    return RedisLeaderLock(client, settings.redis_prefix) if client is not None else None


def held_incidents(client: aioredis.Redis | None, settings: Settings) -> HeldIncidents:
    if client is None:
        return MemoryHeldIncidents()
    return RedisHeldIncidents(client, settings.redis_prefix)


async def log_source(settings: Settings) -> AsyncIterator[LokiLogSource]:
    m = settings.monitoring
    source = LokiLogSource(m.loki_query_url, enabled=m.loki_enabled, username=m.loki_username,
                           api_key=m.loki_api_key, tenant_id=m.loki_tenant_id,
                           max_per_query=m.loki_max_entries_per_query, timeout_s=m.loki_timeout_s)
    try:
        yield source
    finally:
        await source.close()


def server_info() -> dict[str, Any]:
    return {"hostname": socket.gethostname(), "pid": os.getpid(), "version": __version__}


def metrics_snapshot(gate: Any, breakers: BreakerStore, timings: Any) -> Callable[[], Awaitable[dict[str, Any]]]:
    """What an incident records of the moment: in-flight requests (this process's gate), breaker
    states, and the upstream error rate over the recent calls this process observed."""

    async def snapshot() -> dict[str, Any]:
        states = await breakers.all()
        samples = timings.snapshot() if timings is not None else []
        calls = sum(s.count for s in samples)
        errors = sum(s.errors for s in samples)
        return {"in_flight_requests": gate.stats().active_requests if gate is not None else None,
                "breaker_states": {p: str(s.status) for p, s in sorted(states.items())},
                "upstream_error_rate": round(errors / calls, 4) if calls else 0.0,
                "upstream_calls_observed": calls}

    return snapshot


def incident_jobs(detect: DetectIncidents, capture: CaptureIncidentLogs, settings: Settings) -> list[Job]:
    m = settings.monitoring
    return [Job("incident_checks", detect, every(m.incident_check_interval_s), timeout_s=20.0, without_lock=True),
            Job("incident_log_captures", capture.run_due, every(m.capture_interval_s), timeout_s=120.0)]


def scheduler(lock: LeaderLock | None, clock: Clock, registry: Any, *job_lists: Iterable[Job]) -> MonitoringScheduler:
    """One per process; the lifespan starts and stops it."""
    scheduler = MonitoringScheduler(lock, clock, registry)
    for jobs in job_lists:
        for job in jobs:
            scheduler.add(job)
    return scheduler
