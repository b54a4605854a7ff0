"""Every analytics sink delivers a batch whole and in order (memory twin, Statsig and PostHog
against their fake intakes), and the HTTP sinks tell a retryable failure from a final one."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from adapters.analytics.posthog import posthog_sink
from adapters.analytics.statsig import statsig_sink
from adapters.memory.analytics import MemoryAnalyticsSink
from domain.analytics import AnalyticsEvent
from ports.analytics import AnalyticsSink, DeliveryFailed
from tests.fakes.analytics_intake import AnalyticsIntake, Intake
from tests.services import free_port

T0 = datetime(2026, 12, 4, 12, 0, 0, 123000, tzinfo=UTC)
Received = tuple[str, str, dict[str, Any], Any, datetime]


@dataclass
class Sink:
    sink: AnalyticsSink
    received: Callable[[], list[Received]]
    intake: Intake | None = None


def from_statsig(e: dict[str, Any]) -> Received:
    return (e["eventName"], e["user"]["userID"], e["metadata"], e.get("value"),
            datetime.fromtimestamp(e["time"] / 1000, UTC))


def from_posthog(e: dict[str, Any]) -> Received:
    return e["event"], e["distinct_id"], e["properties"], None, datetime.fromisoformat(e["timestamp"])


@pytest.fixture(params=["memory", "statsig", "posthog"])
async def sink(request: pytest.FixtureRequest) -> AsyncIterator[Sink]:
    if request.param == "memory":
        memory = MemoryAnalyticsSink()
        yield Sink(memory, lambda: [(e.name, e.distinct_id, e.properties, e.value, e.timestamp) for e in memory.events])
        return
    async with AnalyticsIntake() as intake, aiohttp.ClientSession() as session:
        if request.param == "statsig":
            yield Sink(statsig_sink(session, intake.statsig.key, intake.url),
                       lambda: [from_statsig(e) for e in intake.statsig.events], intake.statsig)
        else:
            yield Sink(posthog_sink(session, intake.posthog.key, intake.url),
                       lambda: [from_posthog(e) for e in intake.posthog.events], intake.posthog)


def event(i: int, **kw: Any) -> AnalyticsEvent:
    return AnalyticsEvent(**{"name": f"page_view_{i}", "distinct_id": f"user-{i}", "properties": {"path": f"/p{i}"},
                             "timestamp": T0, **kw})


async def test_a_batch_arrives_whole_and_in_order(sink: Sink) -> None:
    await sink.sink.send([event(1), event(2), event(3)])
    got = sink.received()
    assert [g[:3] for g in got] == [(f"page_view_{i}", f"user-{i}", {"path": f"/p{i}"}) for i in (1, 2, 3)]
    assert all(g[4] == T0 for g in got)


@pytest.mark.parametrize("sink", ["statsig", "posthog"], indirect=True)
async def test_a_5xx_is_retryable_and_a_4xx_is_final(sink: Sink) -> None:
    assert sink.intake is not None
    sink.intake.fail(1, 503)
    with pytest.raises(DeliveryFailed) as retry:
        await sink.sink.send([event(1)])
    assert retry.value.retryable
    sink.intake.fail(1, 400)
    with pytest.raises(DeliveryFailed) as final:
        await sink.sink.send([event(2)])
    assert not final.value.retryable
    await sink.sink.send([event(3)])
    assert [g[0] for g in sink.received()] == ["page_view_3"]


async def test_a_wrong_credential_is_a_final_failure() -> None:
    async with AnalyticsIntake() as intake, aiohttp.ClientSession() as session:
        for wrong in (statsig_sink(session, "not-the-key", intake.url), posthog_sink(session, "nope", intake.url)):
            with pytest.raises(DeliveryFailed) as refused:
                await wrong.send([event(1)])
            assert not refused.value.retryable and "401" in str(refused.value)
        assert intake.statsig.events == intake.posthog.events == []


async def test_an_unreachable_service_is_retryable() -> None:
    async with aiohttp.ClientSession() as session:
        for unreachable in (statsig_sink(session, "k", f"http://127.0.0.1:{free_port()}"),
                            posthog_sink(session, "k", f"http://127.0.0.1:{free_port()}")):
            with pytest.raises(DeliveryFailed) as lost:
                await unreachable.send([event(1)])
            assert lost.value.retryable


async def test_statsig_gets_value_and_metadata_as_a_string_map() -> None:
    async with AnalyticsIntake() as intake, aiohttp.ClientSession() as session:
        await statsig_sink(session, intake.statsig.key, intake.url).send([event(
            1, value="openai/gpt-4o", properties={"model": "gpt-4o", "tokens": 12, "tags": ["a"], "ok": True})])
        [sent] = intake.statsig.events
        assert sent["value"] == "openai/gpt-4o"
        assert sent["metadata"] == {"model": "gpt-4o", "tokens": "12", "tags": json.dumps(["a"]), "ok": "true"}
        assert sent["time"] == int(T0.timestamp() * 1000)
