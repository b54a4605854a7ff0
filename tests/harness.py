"""Build and drive the real app in-process (Litestar's AsyncTestClient runs the lifespan)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from dependency_injector import providers
from litestar import Litestar

from gatewayz.app import create_app
from gatewayz.container import Container, build_container, find, resolve
from gatewayz.settings import Settings
from tests.conftest import settings_env


@dataclass
class Running:
    app: Litestar
    client: httpx.AsyncClient
    container: Container

    async def service(self, name: str) -> Any:
        return await resolve(find(self.container, name))

    async def written(self) -> None:
        """Everything settled so far is in the database: the write-behinds flushed and, with Redis,
        the settlement journal drained."""
        await (await self.service("settlements")).flush()
        await (await self.service("request_log")).flush()
        drainer = await self.service("settlement_drainer")
        if drainer is not None:
            assert await drainer.until_empty()

    async def user(self, email: str, *, admin: bool = False, credits: Decimal | int = 0) -> tuple[int, str]:
        """Create a user through the real use case; returns (user_id, plaintext key)."""
        created = await (await self.service("create_user"))(email=email, admin=admin, credits=Decimal(credits))
        return created.user.id, created.api_key


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Drive the ASGI lifespan protocol in this event loop (the test's), so pools stay on one loop."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                                   inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"startup failed: {started}")
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task


@asynccontextmanager
async def running_app(database_url: str, *, clock: Any = None, **env: Any) -> AsyncIterator[Running]:
    """`clock` (e.g. adapters.memory.clock.FixedClock) replaces the system clock for every area."""
    settings = Settings.from_env(settings_env(DATABASE_URL=database_url, **env))
    container = None
    if clock is not None:
        container = build_container(settings)
        container.clock.override(providers.Object(clock))
    app = create_app(settings, container)
    async with lifespan(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
            base_url="http://testserver") as client:
        yield Running(app=app, client=client, container=app.state.container)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
