"""The fleet-wide rate limiter: one Lua script per admission and per settlement, so every gateway
process counts against the same windows, and a check can never race another process's increment."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from domain.errors import ServiceUnavailable
from domain.limits import RATE_SCOPES, TOKEN_SCOPES, Decision, LimitConfig, Scope, decide

_SCRIPTS = Path(__file__).parent / "scripts"
ADMIT = (_SCRIPTS / "limits.lua").read_text()
SETTLE = (_SCRIPTS / "limits_settle.lua").read_text()
_VIOLATED = {i + 1: scope for i, scope in enumerate(RATE_SCOPES)} | {7: Scope.CONCURRENT_REQUESTS}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisRateLimiter:
    """Keys `{prefix}rl:{<subject>}:t` (TATs) and `:l` (leases), hash-tagged per subject so both live
    in one Redis Cluster slot. Redis errors and timeouts raise ServiceUnavailable(reason="redis")."""

    def __init__(self, client: aioredis.Redis, prefix: str, *, lease_ttl_s: float = 300.0,
                 timeout_s: float = 0.5) -> None:
        self._client = client
        self._prefix = prefix
        self._lease_ttl = lease_ttl_s
        self._timeout = timeout_s
        self._admit = client.register_script(ADMIT)
        self._settle = client.register_script(SETTLE)

    def keys(self, subject: str) -> list[str]:
        base = f"{self._prefix}rl:{{{subject}}}"
        return [base + ":t", base + ":l"]

    @asynccontextmanager
    async def _redis(self, **details: str) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self._timeout):
                yield
        except (RedisError, OSError, TimeoutError) as exc:
            raise ServiceUnavailable("Rate limiter unavailable", reason="redis", error=type(exc).__name__,
                                     **details) from exc

    async def admit(self, subject: str, config: LimitConfig, tokens_estimate: int, now: float) -> Decision:
        lease_id = uuid.uuid4().hex
        args = [repr(now), tokens_estimate, lease_id, repr(self._lease_ttl), config.concurrent_requests or 0,
                *(config.limit(s) or 0 for s in RATE_SCOPES)]
        async with self._redis(lease_id=lease_id):  # a lost answer may hide a taken lease
            out = await self._admit(keys=self.keys(subject), args=args)
        allowed, violated, wait, active = bool(int(out[0])), int(out[1]), float(_text(out[2])), int(out[3])
        tats = {scope: float(t) for scope, raw in zip(RATE_SCOPES, out[4:10], strict=True) if (t := _text(raw))}
        return decide(config, allowed=allowed, violated=_VIOLATED.get(violated), retry_after_s=wait, tats=tats,
                      now=now, active=active + (1 if allowed else 0), lease_id=lease_id)

    async def settle(self, subject: str, config: LimitConfig, lease_id: str, tokens_estimate: int,
                     actual_tokens: int | None, now: float) -> bool:
        delta = "" if actual_tokens is None else str(actual_tokens - tokens_estimate)
        args = [repr(now), lease_id, delta, *(config.limit(s) or 0 for s in TOKEN_SCOPES)]
        async with self._redis():
            return bool(await self._settle(keys=self.keys(subject), args=args))

    async def concurrency(self, subject: str, now: float) -> int:
        async with self._redis():
            return int(await self._client.zcount(self.keys(subject)[1], f"({now!r}", "+inf"))

    async def peek(self, subject: str, config: LimitConfig, now: float) -> Decision:
        keys = self.keys(subject)
        async with self._redis():
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.hmget(keys[0], [s.value for s in RATE_SCOPES])
                pipe.zcount(keys[1], f"({now!r}", "+inf")
                stored, active = await pipe.execute()
        tats = {scope: float(_text(raw)) for scope, raw in zip(RATE_SCOPES, stored, strict=True) if raw}
        return decide(config, allowed=True, violated=None, retry_after_s=0.0, tats=tats, now=now,
                      active=int(active))
