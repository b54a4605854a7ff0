"""Composition of the response cache: its settings (read from the environment) and, with the gateway's
switch on, the lookup/store service over Redis (shared) or the LRU-bounded memory twin (one process).
With the switch off there is no service, and the pipeline does no cache work."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from adapters.memory.response_cache import MemoryResponseCache
from adapters.prometheus.response_cache import PrometheusResponseCacheMetrics
from adapters.redis.response_cache import RedisResponseCache
from domain.services.response_caching import ResponseCaching
from gatewayz.settings import Settings, env_bool, env_float, env_int
from ports.clock import Clock
from ports.response_cache import ResponseCache


@dataclass(frozen=True, slots=True)
class ResponseCacheSettings:
    enabled: bool = False
    ttl_s: float = 3600.0
    max_entries: int = 10_000  # the memory twin's LRU bound

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ResponseCacheSettings:
        name = "RESPONSE_CACHE_ENABLED" if env.get("RESPONSE_CACHE_ENABLED") else "BUTTER_DEV_ENABLED"  # seed alias
        return cls(enabled=env_bool(env, name, False), ttl_s=env_float(env, "RESPONSE_CACHE_TTL", 3600.0),
                   max_entries=env_int(env, "RESPONSE_CACHE_MAX_ENTRIES", 10_000, minimum=1))


def response_cache_settings(settings: Settings) -> ResponseCacheSettings:
    return ResponseCacheSettings.from_env(settings.env)


def system_enabled(settings: Settings) -> bool:
    return response_cache_settings(settings).enabled


def response_caching(settings: Settings, client: aioredis.Redis | None, registry: CollectorRegistry,
                     clock: Clock) -> ResponseCaching | None:
    config = response_cache_settings(settings)
    if not config.enabled:
        return None
    cache: ResponseCache = (RedisResponseCache(client, settings.redis_prefix + "rc:") if client is not None
                            else MemoryResponseCache(clock, config.max_entries))
    return ResponseCaching(cache, PrometheusResponseCacheMetrics(registry), ttl_s=config.ttl_s)
