"""The analytics event routes (#1631-#1633) through the app, delivering to fake Statsig and PostHog
intakes: who each event is attributed to, order, bounds, the anonymous limit, and that delivery
never happens on the request's path (a stalled Statsig, a full queue, shutdown)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.fakes.analytics_intake import AnalyticsIntake
from tests.harness import Running, bearer, running_app

FAST = {"ANALYTICS_FLUSH_SECONDS": "0.05", "ANALYTICS_ANON_LIMIT": "1000"}


@pytest.fixture
async def intake() -> AsyncIterator[AnalyticsIntake]:
    async with AnalyticsIntake() as fake:
        yield fake


@pytest.fixture(params=["sqlite", "postgres"])
async def app(request: pytest.FixtureRequest, intake: AnalyticsIntake) -> AsyncIterator[Running]:
    env: dict[str, Any] = {**intake.env(), **FAST}
    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_url")
    else:
        url = request.getfixturevalue("postgres_url")
        env |= {"REDIS_URL": request.getfixturevalue("redis_url"),
                "REDIS_PREFIX": request.getfixturevalue("redis_prefix")}
    async with running_app(url, **env) as running:
        yield running


async def shows(app: Running, *samples: str) -> None:
    """/metrics shows every sample (a delivery is counted just after the intake has it)."""
    for _ in range(100):
        text = (await app.client.get("/metrics")).text
        if all(s in text for s in samples):
            return
        await asyncio.sleep(0.02)
    raise AssertionError([s for s in samples if s not in text])


def statsig_ids(intake: AnalyticsIntake) -> list[tuple[str, str]]:
    return [(e["eventName"], e["user"]["userID"]) for e in intake.statsig.events]


def posthog_ids(intake: AnalyticsIntake) -> list[tuple[str, str]]:
    return [(e["event"], e["distinct_id"]) for e in intake.posthog.events]


async def test_one_event_is_attributed_to_the_key_then_the_body_then_anonymous(
        app: Running, intake: AnalyticsIntake) -> None:
    user_id, key = await app.user("events@example.com")
    sent = [
        ({"event_name": "chat_message_sent", "user_id": "body-1", "value": "openai/gpt-4o",
          "metadata": {"model": "gpt-4o"}}, bearer(key)),  # the key wins over the body
        ({"event_name": "page_view", "user_id": "body-2"}, {}),
        ({"event_name": "page_view"}, {}),
        ({"event_name": "page_view"}, bearer("gw_live_not_a_real_key_at_all")),  # a bad key is anonymous
    ]
    for body, headers in sent:
        r = await app.client.post("/v1/analytics/events", json=body, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json() == {"success": True, "message": f"Event '{body['event_name']}' logged successfully"}
    await intake.until(lambda: len(intake.statsig.events) == 4 and len(intake.posthog.events) == 4)
    expected = [("chat_message_sent", str(user_id)), ("page_view", "body-2"), ("page_view", "anonymous"),
                ("page_view", "anonymous")]
    assert statsig_ids(intake) == posthog_ids(intake) == expected
    first = intake.statsig.events[0]
    assert first["value"] == "openai/gpt-4o" and first["metadata"] == {"model": "gpt-4o"}
    assert intake.posthog.events[0]["properties"] == {"model": "gpt-4o"}


async def test_a_batch_arrives_in_order_and_each_events_own_user_id_wins(app: Running, intake: AnalyticsIntake) -> None:
    user_id, key = await app.user("batch@example.com")
    batch = [{"event_name": "a"}, {"event_name": "b", "user_id": "override-user-456", "value": "openai/gpt-4o",
                                   "metadata": {}}, {"event_name": "c"}]
    r = await app.client.post("/v1/analytics/batch", json=batch, headers=bearer(key))
    assert r.status_code == 200 and r.json() == {"success": True, "message": "3 events logged successfully"}
    anonymous = await app.client.post("/v1/analytics/batch", json=[{"event_name": "d"}])
    assert anonymous.json()["message"] == "1 events logged successfully"
    empty = await app.client.post("/v1/analytics/batch", json=[])
    assert empty.status_code == 200 and empty.json()["message"] == "0 events logged successfully"
    await intake.until(lambda: len(intake.posthog.events) == 4 and len(intake.statsig.events) == 4)
    expected = [("a", str(user_id)), ("b", "override-user-456"), ("c", str(user_id)), ("d", "anonymous")]
    assert posthog_ids(intake) == statsig_ids(intake) == expected


async def test_session_start_merges_the_metadata_over_the_platform(app: Running, intake: AnalyticsIntake) -> None:
    user_id, key = await app.user("session@example.com")
    r = await app.client.post("/v1/analytics/session/start", headers=bearer(key), json={
        "platform": "ios", "metadata": {"version": "2.0.4", "utm_source": "email"}})
    assert r.status_code == 200 and r.json() == {"success": True, "message": "Session start logged successfully"}
    assert (await app.client.post("/v1/analytics/session/start", json={})).status_code == 200
    assert (await app.client.post("/v1/analytics/session/start", json={
        "platform": "web", "metadata": {"platform": "desktop"}})).status_code == 200
    await intake.until(lambda: len(intake.posthog.events) == 3)
    assert [(e["event"], e["distinct_id"], e["properties"]) for e in intake.posthog.events] == [
        ("session_start", str(user_id), {"platform": "ios", "version": "2.0.4", "utm_source": "email"}),
        ("session_start", "anonymous", {"platform": "web"}),
        ("session_start", "anonymous", {"platform": "desktop"}),  # a metadata platform wins (the seed's merge)
    ]


@pytest.mark.parametrize(("path", "body", "loc"), [
    ("/v1/analytics/events", {}, "event_name"),
    ("/v1/analytics/events", {"event_name": ""}, "event_name"),
    ("/v1/analytics/events", {"event_name": "x" * 129}, "event_name"),
    ("/v1/analytics/events", {"event_name": "bad/name"}, "event_name"),
    ("/v1/analytics/events", {"event_name": "ok", "metadata": {"blob": "x" * 9000}}, "metadata"),
    ("/v1/analytics/events", {"event_name": "ok", "metadata": "not an object"}, "metadata"),
    ("/v1/analytics/batch", [{"event_name": "ok"}] * 101, None),
    ("/v1/analytics/batch", [{"event_name": "ok"}, {"event_name": "bad/name"}], "event_name"),
    ("/v1/analytics/batch", [{"event_name": "ok"}, {"event_name": "ok", "metadata": {"b": "x" * 9000}}], "metadata"),
    ("/v1/analytics/session/start", {"platform": "p" * 65}, "platform"),
])
async def test_bad_events_are_422_naming_the_field_and_nothing_is_sent(
        app: Running, intake: AnalyticsIntake, path: str, body: Any, loc: str | None) -> None:
    r = await app.client.post(path, json=body)
    assert r.status_code == 422, r.text
    if loc is not None:
        assert any(loc in [str(p) for p in item["loc"]] or f"`{loc}`" in item["msg"] or f".{loc}`" in item["msg"]
                   for item in r.json()["detail"]), r.json()
    await asyncio.sleep(0.15)  # past a flush interval
    assert intake.statsig.calls == intake.posthog.calls == 0


async def test_anonymous_floods_are_limited_per_address_and_keys_are_not(sqlite_url: str) -> None:
    async with AnalyticsIntake() as intake, running_app(sqlite_url, **intake.env(), ANALYTICS_ANON_LIMIT="3") as app:
        _, key = await app.user("flood@example.com")
        codes = [(await app.client.post("/v1/analytics/events", json={"event_name": "x"})).status_code
                 for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
        refused = await app.client.post("/v1/analytics/events", json={"event_name": "x"})
        assert int(refused.headers["Retry-After"]) >= 1
        authenticated = [(await app.client.post("/v1/analytics/events", json={"event_name": "x"},
                                                headers=bearer(key))).status_code for _ in range(5)]
        assert authenticated == [200] * 5


async def test_a_stalled_statsig_holds_up_neither_the_routes_nor_posthog(sqlite_url: str) -> None:
    async with AnalyticsIntake() as intake, running_app(sqlite_url, **intake.env(), **FAST,
                                                          ANALYTICS_TIMEOUT_SECONDS="30") as app:
        intake.statsig.stall()  # every Statsig call now hangs (up to the 30 s send timeout)
        for i in range(5):
            r = await app.client.post("/v1/analytics/events", json={"event_name": f"e{i}"})
            assert r.status_code == 200
        await intake.until(lambda: len(intake.posthog.events) == 5)
        assert intake.statsig.waiting == 1  # Statsig's one delivery is still hanging after all of that
        assert intake.statsig.events == []
        intake.statsig.release()
        await intake.until(lambda: len(intake.statsig.events) == 5)
        assert [e["eventName"] for e in intake.statsig.events] == [f"e{i}" for i in range(5)]


async def test_a_failing_statsig_recovers_on_retry_without_stopping_posthog(sqlite_url: str) -> None:
    async with AnalyticsIntake() as intake, running_app(sqlite_url, **intake.env(), **FAST) as app:
        intake.statsig.fail(2, 503)
        assert (await app.client.post("/v1/analytics/batch", json=[
            {"event_name": "a"}, {"event_name": "b"}])).status_code == 200
        await intake.until(lambda: len(intake.posthog.events) == 2)
        await intake.until(lambda: len(intake.statsig.events) == 2, timeout_s=10)  # after its backoff
        assert intake.statsig.calls == 3
        await shows(app, 'gatewayz_analytics_events_total{reason="",result="retried",sink="statsig"} 4.0',
                    'gatewayz_analytics_events_total{reason="",result="sent",sink="statsig"} 2.0',
                    'gatewayz_analytics_events_total{reason="",result="sent",sink="posthog"} 2.0')


async def test_a_full_queue_is_503_with_retry_after_and_accepts_none_of_the_batch(sqlite_url: str) -> None:
    async with AnalyticsIntake() as intake, running_app(sqlite_url, **intake.env(), **FAST,
                                                          ANALYTICS_QUEUE_SIZE="4", ANALYTICS_BATCH_SIZE="1",
                                                          ANALYTICS_TIMEOUT_SECONDS="30") as app:
        intake.statsig.stall()
        intake.posthog.stall()
        assert (await app.client.post("/v1/analytics/events", json={"event_name": "held"})).status_code == 200
        await intake.until(lambda: intake.statsig.waiting == intake.posthog.waiting == 1)  # taken, in flight
        ok = await app.client.post("/v1/analytics/batch", json=[{"event_name": f"q{i}"} for i in range(3)])
        assert ok.status_code == 200
        full = await app.client.post("/v1/analytics/batch", json=[{"event_name": f"x{i}"} for i in range(2)])
        assert full.status_code == 503 and full.headers["Retry-After"] == "1"
        assert full.json()["detail"] == "Analytics queue full"
        assert (await app.client.post("/v1/analytics/events", json={"event_name": "q3"})).status_code == 200
        intake.statsig.release()
        intake.posthog.release()
        await intake.until(lambda: len(intake.posthog.events) == 5 and len(intake.statsig.events) == 5)
        assert [e["event"] for e in intake.posthog.events] == ["held", "q0", "q1", "q2", "q3"]


async def test_shutdown_flushes_what_is_queued(sqlite_url: str) -> None:
    async with AnalyticsIntake() as intake:
        async with running_app(sqlite_url, **intake.env(), ANALYTICS_FLUSH_SECONDS="60") as app:
            for i in range(3):
                assert (await app.client.post("/v1/analytics/events", json={"event_name": f"e{i}"})).status_code == 200
            await asyncio.sleep(0.1)
            assert intake.statsig.events == []  # not due before a minute
        assert [e["eventName"] for e in intake.statsig.events] == ["e0", "e1", "e2"]
        assert [e["event"] for e in intake.posthog.events] == ["e0", "e1", "e2"]


async def test_without_any_service_configured_the_routes_still_answer(sqlite_url: str) -> None:
    async with running_app(sqlite_url) as app:
        r = await app.client.post("/v1/analytics/events", json={"event_name": "lonely"})
        assert r.status_code == 200
        await shows(app, 'gatewayz_analytics_events_total{reason="unconfigured",result="dropped",sink="none"} 1.0')
