"""The analytics queue (ports.analytics.AnalyticsQueue) in front of every configured sink.

Handlers only `offer`: each sink has its own bounded queue and its own flusher task, so a stalled
or failing PostHog never delays Statsig. A flusher sends up to `batch_size` events as soon as that
many wait, or whatever waits after `interval_s`; a retryable failure is tried again with backoff
(`attempts` in all), a non-retryable one (4xx) drops the batch. Delivery is at most once: what is
queued when a process is killed is lost (at most `interval_s` plus a batch in flight); `stop`
flushes everything queued on a graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Sequence

import structlog

from domain.analytics import AnalyticsEvent
from ports.analytics import AnalyticsMetrics, AnalyticsSink, DeliveryFailed

log = structlog.get_logger(__name__)
UNCONFIGURED = "none"


class _Lane:
    """One sink's queue and flusher."""

    def __init__(self, sink: AnalyticsSink, capacity: int) -> None:
        self.sink = sink
        self.capacity = capacity
        self.queue: deque[AnalyticsEvent] = deque()
        self.ready = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def room(self) -> int:
        return self.capacity - len(self.queue)


class BatchingAnalytics:
    def __init__(self, sinks: Sequence[AnalyticsSink], metrics: AnalyticsMetrics, *, capacity: int = 10_000,
                 batch_size: int = 50, interval_s: float = 1.0, attempts: int = 3,
                 backoff_s: Sequence[float] = (0.5, 2.0), send_timeout_s: float = 5.0,
                 shutdown_timeout_s: float = 10.0) -> None:
        self._lanes = [_Lane(s, capacity) for s in sinks]
        self._metrics = metrics
        self._batch = batch_size
        self._interval = interval_s
        self._attempts = max(attempts, 1)
        self._backoff = tuple(backoff_s) or (0.0,)
        self._timeout = send_timeout_s
        self._shutdown_timeout = shutdown_timeout_s
        self._stopping = False

    def pending(self) -> int:
        return sum(len(lane.queue) for lane in self._lanes)

    def offer(self, events: list[AnalyticsEvent]) -> bool:
        if not events:
            return True
        if not self._lanes:
            self._metrics.events(UNCONFIGURED, "dropped", len(events), reason="unconfigured")
            return True
        if self._stopping or any(lane.room() < len(events) for lane in self._lanes):
            for lane in self._lanes:
                self._metrics.events(lane.sink.name, "dropped", len(events), reason="queue_full")
            return False
        for lane in self._lanes:
            lane.queue.extend(events)
            if len(lane.queue) >= self._batch:
                lane.ready.set()
        return True

    def start(self) -> None:
        for lane in self._lanes:
            if lane.task is None:
                lane.task = asyncio.get_running_loop().create_task(self._run(lane), name=f"analytics:{lane.sink.name}")

    async def stop(self) -> None:
        """Flush what is queued (bounded by `shutdown_timeout_s`), then end the flushers."""
        self._stopping = True
        for lane in self._lanes:
            lane.ready.set()
        tasks = [lane.task for lane in self._lanes if lane.task is not None]
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=self._shutdown_timeout)
        for task in late:
            task.cancel()
        for task in late:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for lane in self._lanes:
            if lane.queue:
                self._metrics.events(lane.sink.name, "dropped", len(lane.queue), reason="shutdown")
                log.warning("analytics_events_lost_at_shutdown", sink=lane.sink.name, events=len(lane.queue))
                lane.queue.clear()

    async def _run(self, lane: _Lane) -> None:
        while True:
            if not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lane.ready.wait(), self._interval)
            lane.ready.clear()
            while lane.queue:
                await self._send(lane, self._take(lane))
                if not self._stopping and len(lane.queue) < self._batch:
                    break
            if self._stopping and not lane.queue:
                return

    def _take(self, lane: _Lane) -> list[AnalyticsEvent]:
        return [lane.queue.popleft() for _ in range(min(self._batch, len(lane.queue)))]

    async def _send(self, lane: _Lane, batch: list[AnalyticsEvent]) -> None:
        name = lane.sink.name
        for attempt in range(self._attempts):
            try:
                async with asyncio.timeout(self._timeout):
                    await lane.sink.send(batch)
            except (DeliveryFailed, TimeoutError) as exc:
                retryable = not isinstance(exc, DeliveryFailed) or exc.retryable
                if not retryable or attempt + 1 == self._attempts:
                    reason = "rejected" if not retryable else "retries_exhausted"
                    self._metrics.events(name, "dropped", len(batch), reason=reason)
                    log.warning("analytics_batch_dropped", sink=name, events=len(batch), reason=reason,
                                error=str(exc) or type(exc).__name__)
                    return
                self._metrics.events(name, "retried", len(batch))
                await asyncio.sleep(self._backoff[min(attempt, len(self._backoff) - 1)])
            else:
                self._metrics.events(name, "sent", len(batch))
                return
