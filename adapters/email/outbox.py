"""The Notifier: a bounded in-process queue in front of a transport, so no request waits for mail.
Each message gets 3 retries with backoff; shutdown flushes what is queued."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from prometheus_client import CollectorRegistry, Counter

from domain.notifications import Email
from ports.notifications import OnSent, Transport

log = structlog.get_logger("gatewayz.notifications")


class QueuedNotifier:
    def __init__(self, transport: Transport, registry: CollectorRegistry | None = None, *, max_queued: int = 1000,
                 retries: int = 3, backoff_s: float = 0.5, flush_timeout_s: float = 10.0) -> None:
        self._transport = transport
        self._queue: asyncio.Queue[tuple[Email, OnSent | None]] = asyncio.Queue(max_queued)
        self._retries = retries
        self._backoff = backoff_s
        self._flush_timeout = flush_timeout_s
        self._task: asyncio.Task[None] | None = None
        self._total = Counter("gatewayz_notifications_total", "Notifications by kind and outcome",
                              ["kind", "result"], registry=registry)

    async def send(self, message: Email, *, on_sent: OnSent | None = None) -> None:
        try:
            self._queue.put_nowait((message, on_sent))
        except asyncio.QueueFull:
            self._total.labels(message.kind, "dropped").inc()
            log.error("notification_dropped", kind=message.kind, reason="queue full")
            return
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            message, on_sent = await self._queue.get()
            try:
                await self._deliver(message, on_sent)
            finally:
                self._queue.task_done()

    async def _deliver(self, message: Email, on_sent: OnSent | None) -> None:
        for attempt in range(self._retries + 1):
            try:
                await self._transport.deliver(message)
            except Exception as exc:
                if attempt == self._retries:
                    self._total.labels(message.kind, "failed").inc()
                    log.error("notification_failed", kind=message.kind, attempts=attempt + 1, error=str(exc))
                    return
                await asyncio.sleep(self._backoff * 2 ** attempt)
                continue
            self._total.labels(message.kind, "sent").inc()
            break
        if on_sent is not None:
            try:
                await on_sent(message)
            except Exception as exc:
                log.warning("notification_after_sent_failed", kind=message.kind, error=str(exc))

    async def flush(self) -> None:
        """Wait until everything queued went out or failed (bounded by flush_timeout_s)."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), self._flush_timeout)

    async def close(self) -> None:
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
