"""Readiness probe of Redis."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from domain.errors import ServiceUnavailable


class RedisProbe:
    name = "redis"

    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client

    async def check(self) -> None:
        try:
            await self._client.ping()
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable("Redis unavailable", reason="redis", error=type(exc).__name__) from exc
