"""Redis connection with short timeouts: a lost Redis is a quick, explicit failure.

The pool blocks (up to the timeout) when all connections are busy instead of raising at once:
a burst of concurrent requests waits its turn rather than failing with MaxConnectionsError."""

from __future__ import annotations

import redis.asyncio as aioredis


def create_redis(url: str, *, timeout_s: float = 0.5, max_connections: int = 200) -> aioredis.Redis:
    pool = aioredis.BlockingConnectionPool.from_url(
        url, timeout=timeout_s, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
        max_connections=max_connections, health_check_interval=30, retry_on_timeout=False, decode_responses=False,
    )
    return aioredis.Redis.from_pool(pool)
