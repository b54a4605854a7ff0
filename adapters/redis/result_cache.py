"""ResultCache on Redis: one GET / SET EX per call under the deployment's prefix, bounded by a timeout."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from ports.result_cache import CacheUnavailable


class RedisResultCache:
    def __init__(self, client: aioredis.Redis, prefix: str, *, timeout_s: float = 0.5) -> None:
        self._client = client
        self._prefix = prefix
        self._timeout = timeout_s

    async def get(self, key: str) -> bytes | None:
        try:
            async with asyncio.timeout(self._timeout):
                found = await self._client.get(self._prefix + key)
        except (RedisError, OSError, TimeoutError) as exc:
            raise CacheUnavailable(str(exc)) from exc
        return None if found is None else bytes(found)

    async def set(self, key: str, value: bytes, *, ttl_s: int) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await self._client.set(self._prefix + key, value, ex=ttl_s)
        except (RedisError, OSError, TimeoutError) as exc:
            raise CacheUnavailable(str(exc)) from exc

    async def delete(self, key: str) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await self._client.delete(self._prefix + key)
        except (RedisError, OSError, TimeoutError) as exc:
            raise CacheUnavailable(str(exc)) from exc
