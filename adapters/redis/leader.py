"""The monitoring leader lock: `SET key owner NX PX ttl`, renewed by its holder only (a script, so
a process whose lock expired and was taken never extends the new holder's)."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from domain.errors import ServiceUnavailable

_ACQUIRE = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisLeaderLock:
    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._client = client
        self.key = f"{prefix}monitor:leader"  # gatewayz:monitor:leader with the default prefix
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)

    async def acquire(self, owner: str, ttl_s: float) -> bool:
        try:
            return bool(await self._acquire(keys=[self.key], args=[owner, int(ttl_s * 1000)]))
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable("Redis unavailable", reason="redis") from exc

    async def release(self, owner: str) -> None:
        try:
            await self._release(keys=[self.key], args=[owner])
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable("Redis unavailable", reason="redis") from exc

    async def holder(self) -> str | None:
        try:
            value = await self._client.get(self.key)
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable("Redis unavailable", reason="redis") from exc
        return value.decode() if isinstance(value, bytes) else value
