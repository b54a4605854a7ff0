"""Redis connection with short timeouts: a lost Redis is a quick, explicit failure."""

from __future__ import annotations

import redis.asyncio as aioredis


def create_redis(url: str, *, timeout_s: float = 0.5, max_connections: int = 200) -> aioredis.Redis:
    return aioredis.Redis.from_url(
        url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, max_connections=max_connections,
        health_check_interval=30, retry_on_timeout=False, decode_responses=False,
    )
