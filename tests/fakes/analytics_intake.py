"""Fakes of Statsig's event intake (`POST /v1/log_event`, `statsig-api-key` header) and PostHog's
batch intake (`POST /batch/`, `api_key` in the body) on one aiohttp server. Each records what it
accepted, checks its credential (401 otherwise), and can be told to answer 500 the next N times or
to stall every call until released.

    async with AnalyticsIntake(statsig_key="secret", posthog_key="phc_x") as intake:
        intake.statsig.fail(2)        # two 500s, then accept
        intake.posthog.stall()        # hold every call until intake.posthog.release()
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Intake:
    """One service's side of the fake."""

    key: str
    batches: list[list[dict[str, Any]]] = field(default_factory=list)
    calls: int = 0
    failures_left: int = 0
    fail_status: int = 500
    released: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: int = 0  # calls held by a stall right now

    def __post_init__(self) -> None:
        self.released.set()

    @property
    def events(self) -> list[dict[str, Any]]:
        return [e for batch in self.batches for e in batch]

    def fail(self, times: int, status: int = 500) -> None:
        self.failures_left, self.fail_status = times, status

    def stall(self) -> None:
        self.released.clear()

    def release(self) -> None:
        self.released.set()

    async def take(self, key: str | None, events: list[dict[str, Any]]) -> web.Response:
        self.calls += 1
        if not self.released.is_set():
            self.waiting += 1
            try:
                await self.released.wait()
            finally:
                self.waiting -= 1
        if key != self.key:
            return web.json_response({"error": "bad key"}, status=401)
        if self.failures_left > 0:
            self.failures_left -= 1
            return web.json_response({"error": "scripted failure"}, status=self.fail_status)
        self.batches.append(events)
        return web.json_response({"success": True})


class AnalyticsIntake:
    def __init__(self, *, statsig_key: str = "statsig-secret", posthog_key: str = "phc_test") -> None:
        self.statsig = Intake(statsig_key)
        self.posthog = Intake(posthog_key)
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _statsig(self, request: web.Request) -> web.Response:
        body = await request.json()
        return await self.statsig.take(request.headers.get("statsig-api-key"), body.get("events", []))

    async def _posthog(self, request: web.Request) -> web.Response:
        body = await request.json()
        return await self.posthog.take(body.get("api_key"), body.get("batch", []))

    def env(self) -> dict[str, str]:
        """The gateway settings that point both sinks here."""
        return {"STATSIG_SERVER_SECRET_KEY": self.statsig.key, "STATSIG_API_URL": self.url,
                "POSTHOG_API_KEY": self.posthog.key, "POSTHOG_HOST": self.url}

    async def __aenter__(self) -> AnalyticsIntake:
        app = web.Application()
        app.router.add_post("/v1/log_event", self._statsig)
        app.router.add_post("/batch/", self._posthog)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.statsig.release()
        self.posthog.release()
        if self._runner is not None:
            await self._runner.cleanup()

    async def until(self, predicate: Any, timeout_s: float = 5.0) -> None:
        """Wait until `predicate()` holds (deliveries are asynchronous by design)."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"not delivered in {timeout_s}s: statsig={self.statsig.batches} "
                                     f"posthog={self.posthog.batches}")
            await asyncio.sleep(0.02)
