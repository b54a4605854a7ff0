"""The analytics queue: all-or-nothing offers, one flusher per sink (a failing sink never delays
another), retries with backoff, final failures dropped, and shutdown flushing what is queued."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

from adapters.cache.analytics_batcher import BatchingAnalytics
from adapters.memory.analytics import MemoryAnalyticsSink
from domain.analytics import AnalyticsEvent
from ports.analytics import DeliveryFailed

T0 = datetime(2026, 12, 4, tzinfo=UTC)


class Counts:
    def __init__(self) -> None:
        self.by: Counter[tuple[str, str, str]] = Counter()

    def events(self, sink: str, result: str, count: int, *, reason: str = "") -> None:
        self.by[(sink, result, reason)] += count


class Stalled(MemoryAnalyticsSink):
    """A sink whose every send hangs until released."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.gate = asyncio.Event()

    async def send(self, events: list[AnalyticsEvent]) -> None:
        await self.gate.wait()
        await super().send(events)


def events(n: int, start: int = 0) -> list[AnalyticsEvent]:
    return [AnalyticsEvent(name=f"e{i}", distinct_id="u", timestamp=T0) for i in range(start, start + n)]


def names(sink: MemoryAnalyticsSink) -> list[str]:
    return [e.name for e in sink.events]


async def until(predicate: object, timeout_s: float = 3.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not predicate():  # type: ignore[operator]  # noqa: ASYNC110 (polls state other tasks change)
            await asyncio.sleep(0.005)


async def test_a_full_batch_goes_at_once_and_a_partial_one_after_the_interval() -> None:
    sink, counts = MemoryAnalyticsSink("a"), Counts()
    queue = BatchingAnalytics([sink], counts, batch_size=3, interval_s=0.2)
    queue.start()
    try:
        assert queue.offer(events(3))
        await until(lambda: len(sink.batches) == 1)
        assert queue.offer(events(2, 3))
        await asyncio.sleep(0.05)
        assert len(sink.batches) == 1  # two wait for the interval
        await until(lambda: len(sink.batches) == 2)
        assert [[e.name for e in b] for b in sink.batches] == [["e0", "e1", "e2"], ["e3", "e4"]]
        assert counts.by[("a", "sent", "")] == 5
    finally:
        await queue.stop()


async def test_an_offer_the_queue_cannot_take_whole_takes_nothing() -> None:
    stalled, counts = Stalled("s"), Counts()
    queue = BatchingAnalytics([stalled], counts, capacity=5, batch_size=100, interval_s=10)
    assert queue.offer(events(4))
    assert not queue.offer(events(2, 4))  # 4 + 2 > 5: refused whole
    assert queue.pending() == 4
    assert queue.offer(events(1, 4))
    assert counts.by[("s", "dropped", "queue_full")] == 2
    queue.start()
    stalled.gate.set()
    await queue.stop()
    assert names(stalled) == ["e0", "e1", "e2", "e3", "e4"]


async def test_a_stalled_sink_never_delays_the_other_one() -> None:
    stalled, healthy = Stalled("statsig"), MemoryAnalyticsSink("posthog")
    queue = BatchingAnalytics([stalled, healthy], Counts(), batch_size=2, interval_s=0.05, send_timeout_s=30)
    queue.start()
    try:
        for i in range(3):
            assert queue.offer(events(2, 2 * i))
        await until(lambda: len(healthy.events) == 6)
        assert stalled.events == []
    finally:
        stalled.gate.set()
        await queue.stop()
    assert names(stalled) == names(healthy)


async def test_retryable_failures_are_retried_with_backoff_and_final_ones_dropped() -> None:
    flaky, counts = MemoryAnalyticsSink("flaky"), Counts()
    flaky.failures = [DeliveryFailed("HTTP 500", retryable=True), DeliveryFailed("HTTP 502", retryable=True)]
    queue = BatchingAnalytics([flaky], counts, batch_size=1, interval_s=0.01, backoff_s=(0.01,))
    queue.start()
    try:
        assert queue.offer(events(1))
        await until(lambda: len(flaky.events) == 1)  # third attempt succeeds
        assert counts.by[("flaky", "retried", "")] == 2 and counts.by[("flaky", "sent", "")] == 1
        flaky.failures = [DeliveryFailed("HTTP 400", retryable=False)]
        assert queue.offer(events(1, 1))
        await until(lambda: counts.by[("flaky", "dropped", "rejected")] == 1)
        flaky.failures = [DeliveryFailed("HTTP 503", retryable=True)] * 3
        assert queue.offer(events(1, 2))
        await until(lambda: counts.by[("flaky", "dropped", "retries_exhausted")] == 1)
        assert names(flaky) == ["e0"]
    finally:
        await queue.stop()


async def test_a_sink_that_hangs_is_timed_out_and_retried() -> None:
    stalled, counts = Stalled("slow"), Counts()
    queue = BatchingAnalytics([stalled], counts, batch_size=1, interval_s=0.01, send_timeout_s=0.05,
                              backoff_s=(0.01,), attempts=2)
    queue.start()
    try:
        assert queue.offer(events(1))
        await until(lambda: counts.by[("slow", "dropped", "retries_exhausted")] == 1)
        assert counts.by[("slow", "retried", "")] == 1
    finally:
        await queue.stop()


async def test_stop_flushes_everything_queued() -> None:
    sink = MemoryAnalyticsSink("a")
    queue = BatchingAnalytics([sink], Counts(), batch_size=50, interval_s=60)
    queue.start()
    assert queue.offer(events(120))
    await queue.stop()
    assert names(sink) == [f"e{i}" for i in range(120)]
    assert [len(b) for b in sink.batches] == [50, 50, 20]
    assert not queue.offer(events(1))  # a stopped queue takes nothing more


async def test_without_sinks_events_are_accepted_and_counted_as_unconfigured() -> None:
    counts = Counts()
    queue = BatchingAnalytics([], counts)
    queue.start()
    assert queue.offer(events(3))
    await queue.stop()
    assert counts.by == Counter({("none", "dropped", "unconfigured"): 3})
