"""Breakers shared by every gateway process: one Redis hash per provider, updated by a Lua script
that mirrors domain/breaker.py, so every process sees and applies the same transitions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from domain.breaker import BreakerPolicy, BreakerState, BreakerStatus, Bucket, effective, reset
from domain.errors import ServiceUnavailable
from ports.clock import Clock

SCRIPT = (Path(__file__).parent / "scripts" / "breaker.lua").read_text()


def decode(provider: str, fields: dict[bytes, bytes] | list[bytes]) -> BreakerState:
    """A breaker hash (HGETALL, as a dict or the script's flat list) -> the domain state."""
    if isinstance(fields, list):
        fields = dict(zip(fields[::2], fields[1::2], strict=True))
    if not fields:
        return BreakerState(provider=provider)
    h = {k.decode(): v.decode() for k, v in fields.items()}
    window = []
    for name, value in h.items():
        if name.startswith("w:"):
            requests, failures = value.split(":")
            window.append(Bucket(int(name[2:]), int(requests), int(failures)))
    return BreakerState(
        provider=provider, status=BreakerStatus(h.get("status", "closed")),
        consecutive_failures=int(h.get("cf", 0)), consecutive_successes=int(h.get("cs", 0)),
        opened_at=float(h["opened_at"]) if "opened_at" in h else None,
        last_failure_at=float(h["last_failure_at"]) if "last_failure_at" in h else None,
        total_failures=int(h.get("tf", 0)), total_successes=int(h.get("ts", 0)),
        window=tuple(sorted(window, key=lambda b: b.index)),
    )


class RedisBreakerStore:
    """Keys: `{prefix}breaker:{<provider>}` (hash-tagged per provider for Redis Cluster) and the set
    `{prefix}breakers` of known providers. Redis errors raise ServiceUnavailable(reason="redis")."""

    def __init__(self, client: aioredis.Redis, prefix: str, policy: BreakerPolicy | None, clock: Clock, *,
                 timeout_s: float = 0.5, ttl_s: int = 86_400) -> None:
        self._client = client
        self._prefix = prefix
        self._policy = policy or BreakerPolicy()
        self._clock = clock
        self._timeout_s = timeout_s
        self._ttl_s = max(ttl_s, int(self._policy.open_for_s + self._policy.window_s) + 1)
        self._script = client.register_script(SCRIPT)
        self._registry = f"{prefix}breakers"

    def key(self, provider: str) -> str:
        return f"{self._prefix}breaker:{{{provider}}}"

    @asynccontextmanager
    async def _redis(self) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self._timeout_s):
                yield
        except (RedisError, OSError, TimeoutError) as exc:
            raise ServiceUnavailable("Breaker store unavailable", reason="redis",
                                     error=type(exc).__name__) from exc

    def _now(self) -> float:
        return self._clock.now().timestamp()

    async def states(self, providers: list[str]) -> dict[str, BreakerState]:
        if not providers:
            return {}
        async with self._redis():
            pipe = self._client.pipeline(transaction=False)
            for provider in providers:
                pipe.hgetall(self.key(provider))
            rows = await pipe.execute()
        now = self._now()
        return {p: effective(decode(p, row), now, self._policy) for p, row in zip(providers, rows, strict=True)}

    async def record(self, provider: str, success: bool) -> BreakerState:
        p = self._policy
        args = [repr(self._now()), "1" if success else "0", p.failure_threshold, repr(p.failure_rate),
                repr(p.bucket_s), p.buckets, p.min_requests, repr(p.open_for_s), p.half_open_successes,
                self._ttl_s]
        async with self._redis():
            pipe = self._client.pipeline(transaction=False)
            await self._script(keys=[self.key(provider)], args=args, client=pipe)
            pipe.sadd(self._registry, provider)
            fields, _ = await pipe.execute()
        return decode(provider, fields)

    async def reset(self, provider: str) -> BreakerState:
        async with self._redis():
            pipe = self._client.pipeline(transaction=False)
            pipe.delete(self.key(provider))
            pipe.sadd(self._registry, provider)
            await pipe.execute()
        return reset(provider)

    async def reset_all(self) -> list[str]:
        async with self._redis():
            providers = await self._known()
            if providers:
                pipe = self._client.pipeline(transaction=False)
                for provider in providers:
                    pipe.delete(self.key(provider))
                await pipe.execute()
        return providers

    async def all(self) -> dict[str, BreakerState]:
        async with self._redis():
            providers = await self._known()
        return await self.states(providers)

    async def _known(self) -> list[str]:
        members = await self._client.smembers(self._registry)
        return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)
