"""Composition of admission control: which rate limiter serves (Redis with its failure policy, or
the in-process one), the anonymous-address salt, and the per-process concurrency gate."""

from __future__ import annotations

import hashlib
import hmac

import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry, Counter

from adapters.cache.limits import FailoverRateLimiter
from adapters.http.concurrency_gate import ConcurrencyGate
from adapters.memory.limits import MemoryRateLimiter
from adapters.redis.limits import RedisRateLimiter
from gatewayz.settings import AdmissionSettings, Settings
from ports.clock import Clock
from ports.limits import RateLimiter


def admission_settings(settings: Settings) -> AdmissionSettings:
    return settings.admission


def rate_limiter(client: aioredis.Redis | None, settings: Settings, registry: CollectorRegistry,
                 clock: Clock) -> RateLimiter:
    """Redis when configured (limits hold for the whole fleet), falling back per RATE_LIMIT_FAIL_CLOSED;
    the in-process limiter alone for the embedded single-process gateway."""
    a = settings.admission
    local = MemoryRateLimiter(lease_ttl_s=a.lease_ttl_s)
    if client is None:
        return local
    degraded = Counter("rate_limiter_degraded_total",
                       "Admissions and settlements the shared (Redis) rate limiter could not serve",
                       registry=registry)
    shared = RedisRateLimiter(client, settings.redis_prefix, lease_ttl_s=a.lease_ttl_s, timeout_s=a.redis_timeout_s)
    return FailoverRateLimiter(shared, local, fail_closed=a.fail_closed, on_degraded=degraded.inc,
                               monotonic=clock.monotonic)


def ip_salt(settings: Settings, key_secret: bytes) -> bytes:
    """ANONYMOUS_IP_SALT, else derived from the key secret (stable across processes and restarts)."""
    if settings.admission.anonymous_ip_salt:
        return settings.admission.anonymous_ip_salt.encode()
    return hmac.new(key_secret, b"gatewayz:anonymous-ip-salt", hashlib.sha256).digest()


def concurrency_gate(settings: Settings, registry: CollectorRegistry) -> ConcurrencyGate | None:
    a = settings.admission
    if a.concurrency_limit <= 0:
        return None
    gate = ConcurrencyGate(a.concurrency_limit, a.concurrency_queue_size, a.concurrency_queue_timeout_s)
    gate.register(registry)
    return gate
