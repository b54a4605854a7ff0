"""A per-process concurrency gate (#1734): at most `limit` requests in flight, `queue_size` more
waiting up to `queue_timeout_s` in arrival order, the rest shed at once with a 503 and Retry-After.

Pure ASGI: the slot is held until the wrapped app returns, which for a streamed response is after
its last body chunk (or the client's disconnect), so long streams count for as long as they run.
The gate owns its counters; diagnostics read them, not Prometheus internals."""

from __future__ import annotations

import asyncio
import collections
from typing import Any

import msgspec
from prometheus_client import CollectorRegistry, Counter, Gauge

from domain.load import GateStats

EXEMPT = frozenset({"/health", "/health/", "/health/ready", "/ready", "/metrics", "/metrics/"})


class ConcurrencyGate:
    def __init__(self, limit: int, queue_size: int, queue_timeout_s: float) -> None:
        self.limit = limit
        self.queue_size = queue_size
        self.queue_timeout_s = queue_timeout_s
        self.active = 0
        self.rejected = {"queue_full": 0, "queue_timeout": 0}
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._rejected_metric: Counter | None = None

    @property
    def queued(self) -> int:
        return len(self._waiters)

    async def acquire(self) -> str | None:
        """None when a slot is taken; else why not ("queue_full", "queue_timeout")."""
        if self.active < self.limit and not self._waiters:
            self.active += 1
            return None
        if len(self._waiters) >= self.queue_size:
            return self._reject("queue_full")
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self.queue_timeout_s):
                await waiter
            return None
        except (TimeoutError, asyncio.CancelledError) as exc:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot was handed over just as the wait ended: pass it on
            if isinstance(exc, asyncio.CancelledError):
                raise
            return self._reject("queue_timeout")
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def release(self) -> None:
        """Hand the slot to the oldest waiter still waiting, else free it."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.active -= 1

    def _reject(self, reason: str) -> str:
        self.rejected[reason] += 1
        if self._rejected_metric is not None:
            self._rejected_metric.labels(reason).inc()
        return reason

    def stats(self) -> GateStats:
        return GateStats(active_requests=self.active, queued_requests=self.queued, concurrency_limit=self.limit,
                         queue_size_limit=self.queue_size, queue_timeout_seconds=self.queue_timeout_s,
                         rejected_queue_full=self.rejected["queue_full"],
                         rejected_queue_timeout=self.rejected["queue_timeout"])

    def register(self, registry: CollectorRegistry) -> None:
        """Export the counters as the seed's metrics (read from the gate at scrape time)."""
        Gauge("concurrency_active_requests", "Number of requests currently being processed",
              registry=registry).set_function(lambda: self.active)
        Gauge("concurrency_queued_requests", "Number of requests waiting in the admission queue",
              registry=registry).set_function(lambda: self.queued)
        self._rejected_metric = Counter("concurrency_rejected_total", "Requests shed by the concurrency gate",
                                        ["reason"], registry=registry)


class ConcurrencyGateMiddleware:
    def __init__(self, app: Any, gate: ConcurrencyGate, exempt: frozenset[str] = EXEMPT) -> None:
        self.app = app
        self.gate = gate
        self.exempt = exempt

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") in self.exempt:
            await self.app(scope, receive, send)
            return
        refused = await self.gate.acquire()
        if refused is not None:
            await self._shed(send, refused)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.gate.release()

    async def _shed(self, send: Any, reason: str) -> None:
        body = msgspec.json.encode({"detail": "Server is at capacity; please retry shortly", "reason": reason})
        await send({"type": "http.response.start", "status": 503, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"retry-after", b"1")]})
        await send({"type": "http.response.body", "body": body})
