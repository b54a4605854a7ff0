"""Auth attempt counters shared by every process: a sliding-window log per bucket, one script call."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from domain.errors import ServiceUnavailable

SCRIPT = (Path(__file__).parent / "scripts" / "attempts.lua").read_text()


class RedisAttemptLimiter:
    def __init__(self, client: aioredis.Redis, prefix: str, *, timeout_s: float = 0.5) -> None:
        self._client = client
        self._prefix = prefix
        self._timeout = timeout_s
        self._script = client.register_script(SCRIPT)

    def _key(self, bucket: str) -> str:
        return f"{self._prefix}attempts:{bucket}"

    async def hit(self, bucket: str, *, limit: int, window_s: float, now: float) -> float | None:
        return await self._call(bucket, limit, window_s, now, peek=False)

    async def peek(self, bucket: str, *, limit: int, window_s: float, now: float) -> float | None:
        return await self._call(bucket, limit, window_s, now, peek=True)

    async def _call(self, bucket: str, limit: int, window_s: float, now: float, *, peek: bool) -> float | None:
        try:
            async with asyncio.timeout(self._timeout):
                out = await self._script(keys=[self._key(bucket)],
                                         args=[repr(now), repr(window_s), limit, uuid.uuid4().hex, int(peek)])
        except (RedisError, OSError, TimeoutError) as exc:
            raise ServiceUnavailable("Rate limiter unavailable", reason="redis") from exc
        wait = float(out.decode() if isinstance(out, bytes) else out)
        return wait if wait > 0 else None

    async def clear(self, bucket: str) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await self._client.delete(self._key(bucket))
        except (RedisError, OSError, TimeoutError) as exc:
            raise ServiceUnavailable("Rate limiter unavailable", reason="redis") from exc
