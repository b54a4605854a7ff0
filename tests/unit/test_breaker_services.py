"""Breaker monitoring and resets, over the in-process store with a fixed clock."""

from __future__ import annotations

import pytest

from adapters.memory.breakers import MemoryBreakerStore
from adapters.memory.clock import FixedClock
from adapters.memory.telemetry import RecordingInferenceMetrics
from domain.breaker import BreakerPolicy, BreakerStatus
from domain.errors import NotFound
from domain.services.breaker_queries import ListBreakers, ShowBreaker
from domain.services.reset_breakers import ResetAllBreakers, ResetBreaker

POLICY = BreakerPolicy()


class World:
    def __init__(self, catalog: list[str]) -> None:
        self.catalog = catalog
        self.clock = FixedClock()
        self.store = MemoryBreakerStore(self.clock, POLICY)
        self.metrics = RecordingInferenceMetrics()
        providers = lambda: list(self.catalog)  # noqa: E731  (read at call time, like the live catalog)
        self.list = ListBreakers(self.store, providers, self.clock, POLICY)
        self.show = ShowBreaker(self.store, self.clock, POLICY)
        self.reset = ResetBreaker(self.store, providers, self.clock, POLICY, self.metrics)
        self.reset_all = ResetAllBreakers(self.store, providers, self.clock, POLICY, self.metrics)

    async def fail(self, provider: str, n: int = 5) -> None:
        for _ in range(n):
            await self.store.record(provider, False)


async def test_the_list_has_every_catalog_provider_even_never_seen() -> None:
    w = World(["beta", "alpha"])
    reports = await w.list()
    assert [(r.provider, r.status) for r in reports] == [("alpha", BreakerStatus.CLOSED),
                                                         ("beta", BreakerStatus.CLOSED)]


async def test_the_list_keeps_providers_known_only_to_the_store() -> None:
    w = World(["alpha"])
    await w.fail("gone")
    w.clock.advance(15)
    [alpha, gone] = await w.list()
    assert alpha.provider == "alpha" and gone.status is BreakerStatus.OPEN
    assert gone.seconds_until_retry == 45 and gone.failure_count == 5
    assert gone.recent_requests == 5 and gone.failure_rate == 1.0


async def test_an_open_breaker_past_its_cool_down_is_reported_half_open() -> None:
    w = World(["alpha"])
    await w.fail("alpha")
    w.clock.advance(60)
    report = await w.show("alpha")
    assert report.status is BreakerStatus.HALF_OPEN and report.seconds_until_retry == 0


async def test_show_answers_for_any_name_and_creates_nothing() -> None:
    w = World([])
    assert (await w.show("nobody")).status is BreakerStatus.CLOSED
    assert await w.list() == []


async def test_reset_closes_one_breaker_and_sets_the_gauge() -> None:
    w = World(["alpha", "beta"])
    await w.fail("alpha")
    await w.fail("beta")
    report = await w.reset("alpha")
    assert report.status is BreakerStatus.CLOSED and report.failure_count == 0
    assert (await w.show("beta")).status is BreakerStatus.OPEN
    assert w.metrics.breaker_states == [{"provider": "alpha", "state": "closed"}]


async def test_reset_of_an_unknown_provider_is_not_found() -> None:
    w = World(["alpha"])
    with pytest.raises(NotFound):
        await w.reset("nobody")
    await w.fail("off-catalog", 1)
    assert (await w.reset("off-catalog")).status is BreakerStatus.CLOSED


async def test_reset_all_closes_everything_and_reports_every_provider() -> None:
    w = World(["alpha", "beta"])
    await w.fail("alpha")
    await w.fail("gone")
    reports = await w.reset_all()
    assert [r.provider for r in reports] == ["alpha", "beta", "gone"]
    assert all(r.status is BreakerStatus.CLOSED and r.total_failures == 0 for r in reports)
    assert [m["provider"] for m in w.metrics.breaker_states] == ["alpha", "beta", "gone"]
