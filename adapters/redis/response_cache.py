"""The response cache in Redis: one string per entry under the prefix, expiring with its TTL (shared by
every process; Redis's own memory policy bounds it)."""

from __future__ import annotations

import redis.asyncio as aioredis


class RedisResponseCache:
    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    async def get(self, key: str) -> bytes | None:
        value = await self._client.get(self._prefix + key)
        return bytes(value) if value is not None else None

    async def put(self, key: str, value: bytes, ttl_s: float) -> None:
        await self._client.set(self._prefix + key, value, px=max(int(ttl_s * 1000), 1))
