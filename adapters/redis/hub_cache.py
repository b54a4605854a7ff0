"""HubMetadataCache on Redis: `huggingface:model:<id>` (the seed's key) with a TTL, an index set of ids,
one round trip per operation; shared by every process, so a clear is for all of them at once."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from ports.result_cache import CacheUnavailable

ENTRY = "huggingface:model:"
INDEX = "huggingface:models:index"


class RedisHubCache:
    def __init__(self, client: aioredis.Redis, prefix: str, *, timeout_s: float = 0.5) -> None:
        self._client = client
        self._prefix = prefix
        self._timeout = timeout_s

    async def _run(self, work: Any) -> Any:
        try:
            async with asyncio.timeout(self._timeout):
                return await work
        except (RedisError, OSError, TimeoutError) as exc:
            raise CacheUnavailable(str(exc)) from exc

    async def store(self, repo_id: str, data: dict[str, Any], *, now: datetime, ttl_s: int) -> None:
        body = json.dumps({"fetched_at": now.timestamp(), "data": data}, default=str)
        pipe = self._client.pipeline(transaction=True)
        pipe.set(self._prefix + ENTRY + repo_id, body, ex=ttl_s)
        pipe.sadd(self._prefix + INDEX, repo_id)
        await self._run(pipe.execute())

    async def entries(self) -> dict[str, datetime]:
        ids = sorted(m.decode() if isinstance(m, bytes) else m
                     for m in await self._run(self._client.smembers(self._prefix + INDEX)))
        if not ids:
            return {}
        bodies = await self._run(self._client.mget([self._prefix + ENTRY + i for i in ids]))
        live, gone = {}, []
        for repo_id, body in zip(ids, bodies, strict=True):
            if body is None:
                gone.append(repo_id)
            else:
                live[repo_id] = datetime.fromtimestamp(json.loads(body)["fetched_at"], UTC)
        if gone:
            await self._run(self._client.srem(self._prefix + INDEX, *gone))
        return live

    async def clear(self) -> int:
        ids = [m.decode() if isinstance(m, bytes) else m
               for m in await self._run(self._client.smembers(self._prefix + INDEX))]
        keys = [self._prefix + ENTRY + i for i in ids] + [self._prefix + INDEX]
        await self._run(self._client.delete(*keys))
        return len(ids)
