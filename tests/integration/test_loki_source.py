"""The Loki adapter against a fake Loki that speaks query_range's wire format: paging past Loki's
5,000-entry cap, parsing JSON, structlog and plain lines, auth and tenant headers only when
configured, and typed failures."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.loki.source import LokiLogSource, base_url
from domain.logs import LogQueryFailed, LogsNotEnabled, ns
from tests.fakes.loki import FakeLoki, structlog_line

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
T0_NS = ns(T0)


@pytest.fixture
async def loki() -> AsyncIterator[FakeLoki]:
    async with FakeLoki() as fake:
        yield fake


@pytest.fixture
async def source(loki: FakeLoki) -> AsyncIterator[LokiLogSource]:
    s = LokiLogSource(loki.url)
    yield s
    await s.close()


def lines(n: int, *, step_ns: int = 1_000_000, same_every: int = 1) -> list[tuple[int, str]]:
    """n entries from T0; `same_every` consecutive entries share a timestamp (paging boundaries)."""
    return [(T0_NS + (i // same_every) * step_ns, f"line {i}") for i in range(n)]


def test_the_base_url_drops_a_trailing_api_path() -> None:
    assert base_url("https://logs.example.com/loki/api/v1/query_range") == "https://logs.example.com"
    assert base_url("https://logs.example.com/") == "https://logs.example.com"
    assert base_url("https://x.grafana.net/loki/api/v1") == "https://x.grafana.net"


async def test_ten_thousand_entries_are_paged_within_lokis_cap_without_duplicates(
        loki: FakeLoki, source: LokiLogSource) -> None:
    loki.add({"app": "gatewayz-api"}, lines(12_000, same_every=3))  # boundaries fall inside a timestamp
    page = await source.query_range('{app="gatewayz-api"}', T0, T0 + timedelta(hours=1), 10_000, "forward")
    assert len(page.entries) == 10_000 and page.truncated
    assert [e.message for e in page.entries] == [f"line {i}" for i in range(10_000)]
    assert all(int(r.params["limit"]) <= 5000 for r in loki.requests) and len(loki.requests) >= 3
    first = loki.requests[0].params
    assert (first["query"], first["direction"], first["start"]) == ('{app="gatewayz-api"}', "forward", str(T0_NS))


async def test_a_window_smaller_than_the_limit_is_not_truncated(loki: FakeLoki, source: LokiLogSource) -> None:
    loki.add({"app": "a"}, lines(7000))
    page = await source.query_range("{}", T0, T0 + timedelta(hours=1), 10_000)
    assert len(page.entries) == 7000 and not page.truncated
    exactly = await source.query_range("{}", T0, T0 + timedelta(hours=1), 7000)
    assert len(exactly.entries) == 7000 and not exactly.truncated


async def test_backward_paging_returns_the_newest_first(loki: FakeLoki, source: LokiLogSource) -> None:
    values = lines(6000, same_every=7)
    loki.add({"app": "a"}, values)
    page = await source.query_range("{}", T0, T0 + timedelta(hours=1), 5500, "backward")
    newest_first = sorted(values, key=lambda v: v[0], reverse=True)  # within a timestamp, Loki's order stands
    assert [(e.timestamp_ns, e.message) for e in page.entries] == newest_first[:5500]
    assert page.truncated
    assert all(r.params["direction"] == "backward" for r in loki.requests)


async def test_the_window_bounds_are_respected_in_nanoseconds(loki: FakeLoki, source: LokiLogSource) -> None:
    loki.add({"app": "a"}, [(T0_NS - 1, "before"), (T0_NS, "first"), (T0_NS + 60 * 10**9, "last"),
                            (T0_NS + 60 * 10**9 + 1, "after")])
    page = await source.query_range("{}", T0, T0 + timedelta(seconds=60), 100)
    assert [e.message for e in page.entries] == ["first", "last"]


async def test_lines_parse_as_json_structlog_or_plain_text(loki: FakeLoki, source: LokiLogSource) -> None:
    loki.add({"app": "a", "level": "warning"}, [
        (T0_NS, json.dumps({"levelname": "ERROR", "name": "gatewayz.db", "msg": "pool exhausted",
                            "exc_type": "TimeoutError"})),
        (T0_NS + 1, structlog_line("upstream_failed", level="error", logger="gatewayz.inference",
                                   error_type="UpstreamFailed")),
        (T0_NS + 2, "plain text line"),
        (T0_NS + 3, json.dumps({"message": "no level here"})),
    ])
    loki.add({"app": "b", "detected_level": "info"}, [(T0_NS + 4, "[1, 2]")])
    entries = [e.as_dict() for e in (await source.query_range("{}", T0, T0 + timedelta(seconds=1), 10)).entries]
    assert entries == [
        {"timestamp": "2026-05-01T12:00:00+00:00", "level": "ERROR", "logger": "gatewayz.db",
         "message": "pool exhausted", "labels": {"app": "a", "level": "warning"}, "error_type": "TimeoutError"},
        {"timestamp": "2026-05-01T12:00:00+00:00", "level": "ERROR", "logger": "gatewayz.inference",
         "message": "upstream_failed", "labels": {"app": "a", "level": "warning"}, "error_type": "UpstreamFailed"},
        {"timestamp": "2026-05-01T12:00:00+00:00", "level": "warning", "logger": None,
         "message": "plain text line", "labels": {"app": "a", "level": "warning"}},
        {"timestamp": "2026-05-01T12:00:00+00:00", "level": "warning", "logger": None,
         "message": "no level here", "labels": {"app": "a", "level": "warning"}},
        {"timestamp": "2026-05-01T12:00:00+00:00", "level": "info", "logger": None, "message": "[1, 2]",
         "labels": {"app": "b", "detected_level": "info"}},
    ]


async def test_a_stream_without_level_labels_has_a_null_level(loki: FakeLoki, source: LokiLogSource) -> None:
    loki.add({"app": "a"}, [(T0_NS, "plain")])
    [entry] = (await source.query_range("{}", T0, T0 + timedelta(seconds=1), 10)).entries
    assert entry.level is None


async def test_basic_auth_and_the_tenant_header_are_sent_only_when_configured(loki: FakeLoki) -> None:
    loki.add({"app": "a"}, [(T0_NS, "x")])
    plain = LokiLogSource(loki.url)
    configured = LokiLogSource(loki.url + "/loki/api/v1/query_range", username="12345", api_key="glc_secret",
                               tenant_id="tenant-7")
    try:
        await plain.query_range("{}", T0, T0 + timedelta(seconds=1), 10)
        await configured.query_range("{}", T0, T0 + timedelta(seconds=1), 10)
    finally:
        await plain.close()
        await configured.close()
    bare, authed = loki.requests
    assert "authorization" not in bare.headers and "x-scope-orgid" not in bare.headers
    assert authed.headers["authorization"] == "Basic " + base64.b64encode(b"12345:glc_secret").decode()
    assert authed.headers["x-scope-orgid"] == "tenant-7"


async def test_not_enabled_is_a_typed_outcome_not_an_empty_result(loki: FakeLoki) -> None:
    for source in (LokiLogSource(None), LokiLogSource(loki.url, enabled=False)):
        assert not source.enabled
        with pytest.raises(LogsNotEnabled, match="Loki not enabled"):
            await source.query_range("{}", T0, T0, 10)
    assert loki.requests == []


@pytest.mark.parametrize(("status", "body", "expected"), [
    (500, "internal error", "Loki answered HTTP 500: internal error"),
    (400, "parse error at line 1, col 2: syntax error: unexpected IDENTIFIER", "Loki answered HTTP 400: parse error"),
    (503, "upstream glc_secret\nconnect error", "Loki answered HTTP 503: upstream *** connect error"),
])
async def test_loki_errors_are_typed_failures_with_a_sanitised_reason(loki: FakeLoki, status: int, body: str,
                                                                       expected: str) -> None:
    loki.fail_status, loki.fail_body = status, body
    source = LokiLogSource(loki.url, username="12345", api_key="glc_secret")
    try:
        with pytest.raises(LogQueryFailed) as caught:
            await source.query_range("{}", T0, T0, 10)
    finally:
        await source.close()
    assert caught.value.message.startswith(expected)
    assert "glc_secret" not in caught.value.message and loki.url not in caught.value.message


async def test_a_limit_above_lokis_cap_would_be_refused(loki: FakeLoki) -> None:
    """What the seed did (10,000 in one call) fails on a stock Loki; the adapter's cap is what keeps it working."""
    source = LokiLogSource(loki.url, max_per_query=10_000)
    try:
        with pytest.raises(LogQueryFailed, match="max entries limit"):
            await source.query_range("{}", T0, T0 + timedelta(hours=1), 10_000)
    finally:
        await source.close()


async def test_a_stalled_loki_is_a_timeout_failure(loki: FakeLoki) -> None:
    loki.stall_s = 1.0
    source = LokiLogSource(loki.url, timeout_s=0.1)
    try:
        with pytest.raises(LogQueryFailed, match="timed out"):
            await source.query_range("{}", T0, T0, 10)
    finally:
        await source.close()


async def test_an_unreachable_loki_is_a_failure(loki: FakeLoki) -> None:
    source = LokiLogSource("http://127.0.0.1:1")
    try:
        with pytest.raises(LogQueryFailed, match="unreachable"):
            await source.query_range("{}", T0, T0, 10)
    finally:
        await source.close()


