"""The cache-invalidation bus: the in-process twin and Redis pub/sub deliver alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from adapters.memory.bus import MemoryCacheBus
from adapters.redis.bus import RedisCacheBus
from adapters.redis.client import create_redis
from ports.bus import CacheBus
from tests.services import free_port

MakeBus = Callable[[], Awaitable[CacheBus]]


class Inbox:
    """A handler that remembers what it heard; sync or async, as subscribers may be either."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.arrived = asyncio.Event()

    def sync(self, message: str) -> None:
        self.messages.append(message)
        self.arrived.set()

    async def coro(self, message: str) -> None:
        await asyncio.sleep(0)
        self.sync(message)

    async def wait_for(self, count: int) -> list[str]:
        async def enough() -> None:
            while len(self.messages) < count:
                self.arrived.clear()
                await self.arrived.wait()
        await asyncio.wait_for(enough(), 2.0)
        return self.messages


@pytest.fixture(params=["memory", "redis"])
def redis_channel(request: pytest.FixtureRequest) -> tuple[str, str] | None:
    """None for the memory twin; else (Redis URL, per-test prefix)."""
    if request.param == "memory":
        return None
    return str(request.getfixturevalue("redis_url")), str(request.getfixturevalue("redis_prefix"))


@pytest.fixture
async def make_bus(redis_channel: tuple[str, str] | None) -> AsyncIterator[MakeBus]:
    """Buses that share one channel, as processes of one deployment do (the memory twin: one process)."""
    clients: list[aioredis.Redis] = []
    buses: list[RedisCacheBus] = []
    shared = MemoryCacheBus()

    async def make() -> CacheBus:
        if redis_channel is None:
            return shared
        url, prefix = redis_channel
        client = create_redis(url)
        clients.append(client)
        bus = RedisCacheBus(client, prefix=prefix + "bus:")
        buses.append(bus)
        await bus.start()
        return bus

    yield make
    for bus in buses:
        await bus.stop()
    for client in clients:
        await client.aclose()


async def test_a_subscriber_hears_every_message_of_its_topic_in_order(make_bus: MakeBus) -> None:
    bus = await make_bus()
    inbox = Inbox()
    bus.subscribe("keys", inbox.sync)
    for message in ("a", "b", "*"):
        await bus.publish("keys", message)
    assert await inbox.wait_for(3) == ["a", "b", "*"]


async def test_the_publishing_process_has_dropped_its_copy_when_publish_returns(make_bus: MakeBus) -> None:
    bus = await make_bus()
    sync_inbox, async_inbox = Inbox(), Inbox()
    bus.subscribe("keys", sync_inbox.sync)
    bus.subscribe("keys", async_inbox.coro)
    await bus.publish("keys", "hash-1")
    assert sync_inbox.messages == ["hash-1"]
    assert async_inbox.messages == ["hash-1"]


async def test_topics_are_separate(make_bus: MakeBus) -> None:
    bus = await make_bus()
    keys, users = Inbox(), Inbox()
    bus.subscribe("keys", keys.sync)
    bus.subscribe("users", users.sync)
    await bus.publish("users", "42")
    await bus.publish("keys", "hash-2")
    assert await users.wait_for(1) == ["42"]
    assert await keys.wait_for(1) == ["hash-2"]
    await asyncio.sleep(0.05)
    assert (keys.messages, users.messages) == (["hash-2"], ["42"])


async def test_a_message_published_by_one_process_reaches_a_subscriber_in_another(make_bus: MakeBus) -> None:
    publisher, listener = await make_bus(), await make_bus()
    inbox = Inbox()
    listener.subscribe("keys", inbox.sync)
    await publisher.publish("keys", "hash-from-elsewhere")
    assert await inbox.wait_for(1) == ["hash-from-elsewhere"]


async def test_each_subscriber_hears_a_message_once_even_on_the_publishing_process(make_bus: MakeBus) -> None:
    publisher, listener = await make_bus(), await make_bus()
    here, there = Inbox(), Inbox()
    publisher.subscribe("keys", here.sync)
    listener.subscribe("keys", there.sync)
    await publisher.publish("keys", "once")
    await there.wait_for(1)
    await publisher.publish("keys", "twice")  # ordered after "once" on the channel: when it arrives, so has "once"
    await there.wait_for(2)
    await asyncio.sleep(0.1)
    assert here.messages == ["once", "twice"]
    assert there.messages == ["once", "twice"]


async def test_deployments_with_different_prefixes_do_not_hear_each_other(redis_url: str, redis_prefix: str) -> None:
    client_a, client_b = create_redis(redis_url), create_redis(redis_url)
    a = RedisCacheBus(client_a, prefix=redis_prefix + "a:")
    b = RedisCacheBus(client_b, prefix=redis_prefix + "b:")
    await a.start()
    await b.start()
    try:
        inbox = Inbox()
        b.subscribe("keys", inbox.sync)
        await a.publish("keys", "not-for-b")
        await b.publish("keys", "for-b")
        assert await inbox.wait_for(1) == ["for-b"]
        await asyncio.sleep(0.1)
        assert inbox.messages == ["for-b"]
    finally:
        await a.stop()
        await b.stop()
        await client_a.aclose()
        await client_b.aclose()


async def test_a_lost_redis_still_drops_the_local_copy_and_does_not_raise() -> None:
    client = create_redis(f"redis://127.0.0.1:{free_port()}/0")
    bus = RedisCacheBus(client, prefix="gone:")
    try:
        inbox = Inbox()
        bus.subscribe("keys", inbox.sync)
        await asyncio.wait_for(bus.publish("keys", "hash-3"), 2.0)
        assert inbox.messages == ["hash-3"]
    finally:
        await client.aclose()


async def test_a_listener_that_was_stopped_hears_nothing_more(redis_url: str, redis_prefix: str) -> None:
    client_a, client_b = create_redis(redis_url), create_redis(redis_url)
    a = RedisCacheBus(client_a, prefix=redis_prefix)
    b = RedisCacheBus(client_b, prefix=redis_prefix)
    await a.start()
    await b.start()
    inbox = Inbox()
    b.subscribe("keys", inbox.sync)
    try:
        await a.publish("keys", "before")
        await inbox.wait_for(1)
        await b.stop()
        await a.publish("keys", "after")
        await asyncio.sleep(0.1)
        assert inbox.messages == ["before"]
    finally:
        await a.stop()
        await client_a.aclose()
        await client_b.aclose()
