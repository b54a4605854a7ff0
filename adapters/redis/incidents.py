"""Incidents held in Redis while the database is down: one hash field per check, so whichever
process leads next writes them."""

from __future__ import annotations

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from domain.errors import ServiceUnavailable
from domain.incidents import CheckName, Incident


class RedisHeldIncidents:
    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._client = client
        self._key = f"{prefix}monitor:held_incidents"

    async def hold(self, incident: Incident) -> None:
        try:
            await self._client.hset(self._key, str(incident.check), msgspec.json.encode(incident))
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable("Redis unavailable", reason="redis") from exc

    async def held(self) -> list[Incident]:
        try:
            raw = await self._client.hgetall(self._key)
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable("Redis unavailable", reason="redis") from exc
        return [msgspec.json.decode(v, type=Incident) for v in raw.values()]

    async def release(self, check: CheckName) -> None:
        try:
            await self._client.hdel(self._key, str(check))
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable("Redis unavailable", reason="redis") from exc
