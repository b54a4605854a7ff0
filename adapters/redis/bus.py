"""Cache invalidation over Redis pub/sub, so every gateway process drops its copy."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import uuid
from collections import defaultdict

import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError

from ports.bus import Handler

log = structlog.get_logger(__name__)


class RedisCacheBus:
    """Local handlers run at publish time (the change is visible here at once); the Redis channel
    carries it to the other processes. A listener that loses Redis reconnects with backoff.
    Each message on the wire is "<origin> <message>", so a process skips its own echo."""

    def __init__(self, client: aioredis.Redis, *, prefix: str = "gatewayz:bus:") -> None:
        self._client = client
        self._prefix = prefix
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._origin = uuid.uuid4().hex

    async def publish(self, topic: str, message: str) -> None:
        await self._dispatch(topic, message)
        try:
            await self._client.publish(self._prefix + topic, f"{self._origin} {message}")
        except (RedisError, OSError) as exc:
            log.warning("cache_bus_publish_failed", topic=topic, error=str(exc))

    def subscribe(self, topic: str, handler: Handler) -> None:
        self._handlers[topic].append(handler)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._listen(), name="redis-cache-bus")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), 2.0)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _dispatch(self, topic: str, message: str) -> None:
        for handler in list(self._handlers[topic]):
            result = handler(message)
            if inspect.isawaitable(result):
                await result

    async def _listen(self) -> None:
        backoff = 0.1
        while True:
            pubsub = self._client.pubsub()
            try:
                await pubsub.psubscribe(self._prefix + "*")
                self._ready.set()
                backoff = 0.1
                while True:
                    msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if msg is None:
                        continue
                    topic = msg["channel"].decode()[len(self._prefix):]
                    origin, _, message = msg["data"].decode().partition(" ")
                    if origin != self._origin:  # our own handlers ran at publish time
                        await self._dispatch(topic, message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("cache_bus_listener_lost", error=str(exc))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
