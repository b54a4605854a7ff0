"""Wiring of the monitoring loop and of the ports incident detection needs: which adapter serves
the leader lock, the held-incident store and the log source (chosen by settings), the metrics
snapshot an incident records, and the one MonitoringScheduler every area's jobs join."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import redis.asyncio as aioredis

from adapters.anthropic_ai.fix_generator import AnthropicFixGenerator
from adapters.github.code_host import GitHubCodeHost
from adapters.loki.source import LokiLogSource
from adapters.memory.incidents import MemoryHeldIncidents
from adapters.redis.incidents import RedisHeldIncidents
from adapters.redis.leader import RedisLeaderLock
from adapters.scheduler.monitoring import Job, MonitoringScheduler, every
from domain.error_monitoring import MonitorState
from domain.errors import GatewayError
from domain.services.alert_incident import AlertIncident
from domain.services.capture_incident_logs import CaptureIncidentLogs
from domain.services.detect_incidents import DetectIncidents
from domain.services.error_monitor import MonitorControl
from domain.services.generate_fix import GenerateFix, RefreshPullRequests, ScheduledScan
from gatewayz.settings import Settings
from gatewayz.version import __version__
from ports.breakers import BreakerStore
from ports.catalog import CatalogSource
from ports.clock import Clock
from ports.error_monitoring import ErrorPatternStore, FixStore
from ports.fixes import CodeHost, FixGenerator
from ports.incidents import HeldIncidents
from ports.leader import LeaderLock
from ports.notifications import Notifier


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


def leader_running(lock: LeaderLock | None, settings: Settings) -> Callable[[], Awaitable[bool]]:
    """Whether some process leads the monitoring jobs now (the error monitor's `running`)."""

    async def running() -> bool:
        if lock is None:
            return settings.monitoring.enabled  # the single process leads whenever its loop runs
        try:
            return await lock.holder() is not None
        except GatewayError:
            return False

    return running


def catalog_names(source: CatalogSource) -> Callable[[], list[str]]:
    """The classifier's provider names: the live catalog's slugs and display names."""
    return lambda: [n for p in source.current().providers.values() for n in (p.slug, p.name)]


def initial_monitor_state(settings: Settings) -> MonitorState:
    m = settings.monitoring
    return MonitorState(enabled=m.error_monitor_autostart, auto_fix=m.error_monitor_auto_fix)


async def fix_generator(settings: Settings) -> AsyncIterator[AnthropicFixGenerator]:
    m = settings.monitoring
    generator = AnthropicFixGenerator(m.anthropic_api_key, base_url=m.anthropic_base_url, model=m.anthropic_model)
    try:
        yield generator
    finally:
        await generator.close()


async def code_host(settings: Settings) -> AsyncIterator[GitHubCodeHost]:
    m = settings.monitoring
    host = GitHubCodeHost(m.github_token, m.github_repository, base_branch=m.github_base_branch,
                          api_url=m.github_api_url)
    try:
        yield host
    finally:
        await host.close()


async def generate_fix(patterns: ErrorPatternStore, fixes: FixStore, generator: FixGenerator, host: CodeHost,
                       clock: Clock, settings: Settings) -> AsyncIterator[GenerateFix]:
    """Background generations are cancelled at shutdown (their fixes stay recorded as started)."""
    m = settings.monitoring
    service = GenerateFix(patterns, fixes, generator, host, clock, max_per_hour=m.error_monitor_max_fixes_per_hour,
                          allowed_paths=m.error_monitor_allowed_paths)
    try:
        yield service
    finally:
        await service.close()


def error_jobs(scan: ScheduledScan, refresh: RefreshPullRequests, control: MonitorControl) -> list[Job]:
    return [Job("error_scans", scan, control.scan_interval, timeout_s=300.0),
            Job("pull_request_refresh", refresh, every(600.0), timeout_s=120.0)]


def incident_alerts(notifier: Notifier, settings: Settings) -> AlertIncident | None:
    """None without ALERT_EMAILS: detection then sends nothing."""
    recipients = settings.monitoring.alert_emails
    return AlertIncident(notifier, recipients) if recipients else None
