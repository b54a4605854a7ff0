"""Composition of analytics delivery: its settings (read from the environment, like the admission
settings), and the queue in front of whichever of Statsig and PostHog is configured."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import aiohttp
from prometheus_client import CollectorRegistry

from adapters.analytics.posthog import DEFAULT_HOST, posthog_sink
from adapters.analytics.statsig import DEFAULT_URL, statsig_sink
from adapters.cache.analytics_batcher import BatchingAnalytics
from adapters.prometheus.analytics import PrometheusAnalyticsMetrics
from gatewayz.settings import Settings, SettingsError, env_float, env_int
from ports.analytics import AnalyticsSink


@dataclass(frozen=True, slots=True)
class AnalyticsSettings:
    statsig_secret_key: str | None = None
    statsig_api_url: str = DEFAULT_URL
    posthog_api_key: str | None = None
    posthog_host: str = DEFAULT_HOST
    queue_size: int = 10_000
    batch_size: int = 50
    interval_s: float = 1.0
    timeout_s: float = 5.0
    anonymous_per_minute: int = 60  # ANALYTICS_ANON_LIMIT; 0 turns the limit off

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AnalyticsSettings:
        made = cls(
            statsig_secret_key=env.get("STATSIG_SERVER_SECRET_KEY") or None,
            statsig_api_url=env.get("STATSIG_API_URL") or DEFAULT_URL,
            posthog_api_key=env.get("POSTHOG_API_KEY") or None,
            posthog_host=env.get("POSTHOG_HOST") or DEFAULT_HOST,
            queue_size=env_int(env, "ANALYTICS_QUEUE_SIZE", 10_000, minimum=1),
            batch_size=env_int(env, "ANALYTICS_BATCH_SIZE", 50, minimum=1),
            interval_s=env_float(env, "ANALYTICS_FLUSH_SECONDS", 1.0),
            timeout_s=env_float(env, "ANALYTICS_TIMEOUT_SECONDS", 5.0),
            anonymous_per_minute=env_int(env, "ANALYTICS_ANON_LIMIT", 60),
        )
        for name, url in (("STATSIG_API_URL", made.statsig_api_url), ("POSTHOG_HOST", made.posthog_host)):
            if not url.startswith(("http://", "https://")):
                raise SettingsError(f"{name} must be an http(s) URL, got {url!r}")
        return made


def analytics_settings(settings: Settings) -> AnalyticsSettings:
    return AnalyticsSettings.from_env(settings.env)


async def analytics_queue(settings: Settings, registry: CollectorRegistry) -> AsyncIterator[BatchingAnalytics]:
    """Started with the app, flushed on shutdown; with neither service configured events are counted
    as dropped (`unconfigured`) and the routes still answer."""
    a = analytics_settings(settings)
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=a.timeout_s))
    sinks: list[AnalyticsSink] = []
    if a.statsig_secret_key:
        sinks.append(statsig_sink(session, a.statsig_secret_key, a.statsig_api_url))
    if a.posthog_api_key:
        sinks.append(posthog_sink(session, a.posthog_api_key, a.posthog_host))
    queue = BatchingAnalytics(sinks, PrometheusAnalyticsMetrics(registry), capacity=a.queue_size,
                              batch_size=a.batch_size, interval_s=a.interval_s, send_timeout_s=a.timeout_s)
    queue.start()
    try:
        yield queue
    finally:
        try:
            await queue.stop()
        finally:
            await session.close()
