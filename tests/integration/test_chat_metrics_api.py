"""Public tokens-per-second metrics over HTTP (#1706, #1707): the gate (top 3 pairs plus each other
provider's most used), the exact value, failed and out-of-window rows left out, the text format as
prometheus_client parses it, and /all ignoring the gate. Request rows go in through the real
write-behind; the gate reads the whole log, so each test has a fresh SQLite database (PostgreSQL's is
shared by the session) and one PostgreSQL test reads pairs of its own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert

from adapters.catalog_file.loader import load_catalog_file
from adapters.postgres.tables import models
from domain.requests import RequestRecord
from tests.harness import Running, running_app
from tests.integration.inference_kit import CATALOG

PATH = "/v1/chat/completions/metrics/tokens-per-second"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
HEAD = ["# HELP gatewayz_tokens_per_second Token throughput (tokens/second) by model and provider",
        "# TYPE gatewayz_tokens_per_second gauge"]


async def record(r: Running, model: str, provider: str | None, n: int = 1, *, status: str = "completed",
                 tokens: tuple[int, int] = (100, 100), ms: int = 1000, age: timedelta = timedelta(0)) -> None:
    log = await r.service("request_log")
    at = datetime.now(UTC) - age
    for _ in range(n):
        await log.record(RequestRecord(request_id=uuid.uuid4().hex, created_at=at, model=model, status=status,
                                       provider=provider, input_tokens=tokens[0], output_tokens=tokens[1],
                                       processing_time_ms=ms))
    await log.flush()


async def number(r: Running, model: str) -> int:
    found = await (await r.service("throughput_store")).model_number(model)
    assert found is not None, model
    return int(found)


@pytest.fixture
async def app(sqlite_url: str) -> AsyncIterator[Running]:
    async with running_app(sqlite_url) as r:
        await (await r.service("load_catalog"))(*load_catalog_file(CATALOG))
        yield r


async def tps(r: Running, path: str = PATH, **params: Any) -> Any:
    return await r.client.get(path, params=params)


def samples(body: str) -> list[Any]:
    return [s for family in text_string_to_metric_families(body) for s in family.samples]


async def test_the_gate_publishes_the_top_three_pairs_and_each_other_providers_most_used(app: Running) -> None:
    await record(app, "acme/chat", "alpha", 2)
    await record(app, "acme/chat", "alpha", 8, age=timedelta(days=400))
    await record(app, "acme/claude", "claude", 8)
    await record(app, "acme/duo", "alpha", 6)
    await record(app, "acme/free", "alpha", 5)
    await record(app, "acme/duo", "beta", 2)
    await record(app, "acme/embed", "beta", 2)
    await record(app, "acme/fragile", "dead", 9, status="failed")
    await record(app, "acme/chat", "beta", 20, status="failed")
    ids = {m: await number(app, m) for m in ("acme/chat", "acme/claude", "acme/duo", "acme/free", "acme/embed",
                                             "acme/fragile")}
    beta_pick = min(ids["acme/duo"], ids["acme/embed"])  # a tie: the lowest model id
    beta_other = max(ids["acme/duo"], ids["acme/embed"])
    allowed = [(ids["acme/chat"], "alpha"), (ids["acme/claude"], "claude"), (ids["acme/duo"], "alpha"),
               (beta_pick, "beta")]
    refused = [(ids["acme/free"], "alpha"), (beta_other, "beta"), (ids["acme/fragile"], "dead"),
               (ids["acme/chat"], "beta"), (ids["acme/chat"], "claude"), (10**9, "alpha")]
    for model_id, provider in allowed:
        resp = await tps(app, time="2year", model_id=model_id, provider_id=provider)
        assert resp.status_code == 200, (model_id, provider, resp.text)
        assert resp.headers["content-type"] == CONTENT_TYPE
    for model_id, provider in refused:
        resp = await tps(app, time="2year", model_id=model_id, provider_id=provider)
        assert (resp.status_code, resp.json()) == (
            403, {"detail": "Metrics are only published for the most used models"}), (model_id, provider)
    for model_id, provider in refused[:3]:  # /all has no gate
        assert (await tps(app, PATH + "/all", model_id=model_id, provider_id=provider)).status_code == 200


async def test_the_value_counts_completed_rows_of_that_provider_inside_the_window(app: Running) -> None:
    await record(app, "acme/chat", "alpha", 2, tokens=(150, 50), ms=1000)      # 400 tokens over 2,000 ms
    await record(app, "acme/chat", "alpha", 3, tokens=(9000, 0), ms=1, age=timedelta(days=8))
    await record(app, "acme/chat", "alpha", 4, status="failed", tokens=(9000, 9000), ms=1)
    await record(app, "acme/chat", "beta", 1, tokens=(5, 5), ms=10_000)
    chat = await number(app, "acme/chat")
    resp = await tps(app, time="week", model_id=chat, provider_id="alpha")
    assert resp.status_code == 200, resp.text
    lines = resp.text.splitlines()
    assert lines[:2] == HEAD
    generated = datetime.fromisoformat(lines[2].removeprefix("# Generated: "))
    assert abs((datetime.now(UTC) - generated).total_seconds()) < 60 and generated.tzinfo is not None
    assert lines[3:] == ["# Time range: week", "# Filtered to: top 3 models + minimum 1 per provider",
                         'gatewayz_tokens_per_second{model="Acme Chat",provider="alpha",requests="2",'
                         'total_tokens="400"} 200.0']
    [sample] = samples(resp.text)
    assert (sample.name, sample.value) == ("gatewayz_tokens_per_second", 200.0)
    assert sample.labels == {"model": "Acme Chat", "provider": "alpha", "requests": "2", "total_tokens": "400"}
    [month] = samples((await tps(app, time="month", model_id=chat, provider_id="alpha")).text)
    assert (month.labels["requests"], month.labels["total_tokens"]) == ("5", str(400 + 27_000))
    hour_only = await tps(app, time="hour", model_id=chat, provider_id="alpha")
    assert len(samples(hour_only.text)) == 1
    everything = await tps(app, PATH + "/all", model_id=chat, provider_id="alpha")
    assert everything.headers["content-type"] == CONTENT_TYPE
    lines = everything.text.splitlines()
    assert lines[:2] == HEAD and lines[3] == "# Time range: all" and len(lines) == 5
    [ever] = samples(everything.text)
    assert ever.labels["requests"] == "5" and ever.value == pytest.approx(27_400 / 2.003)


async def test_no_data_is_the_comment_lines_only_and_all_says_so(app: Running) -> None:
    await record(app, "acme/chat", "alpha", 1, age=timedelta(days=2))
    await record(app, "acme/free", "alpha", 1, ms=0)  # no time measured: the seed divided by zero
    chat, free = await number(app, "acme/chat"), await number(app, "acme/free")
    empty = await tps(app, time="hour", model_id=chat, provider_id="alpha")
    assert empty.status_code == 200
    lines = empty.text.splitlines()
    assert lines[:2] == HEAD and lines[3:] == ["# Time range: hour",
                                               "# Filtered to: top 3 models + minimum 1 per provider"]
    assert samples(empty.text) == []
    zero = await tps(app, time="week", model_id=free, provider_id="alpha")
    assert zero.status_code == 200 and samples(zero.text) == []
    nothing = await tps(app, PATH + "/all", model_id=10**9, provider_id="nobody")
    assert nothing.status_code == 200
    assert nothing.text.splitlines()[3:] == ["# Time range: all", "# No data available"]
    assert "Filtered to" not in nothing.text and samples(nothing.text) == []


@pytest.mark.parametrize("params", [
    {"time": "day", "model_id": 1, "provider_id": "alpha"},
    {"time": "", "model_id": 1, "provider_id": "alpha"},
])
async def test_an_unknown_time_range_is_the_seeds_400(app: Running, params: dict[str, Any]) -> None:
    resp = await tps(app, **params)
    assert (resp.status_code, resp.json()) == (
        400, {"detail": "Invalid time parameter. Must be one of: hour, week, month, 1year, 2year"})


@pytest.mark.parametrize(("path", "params"), [
    (PATH, {"time": "week", "provider_id": "alpha"}),
    (PATH, {"time": "week", "model_id": "abc", "provider_id": "alpha"}),
    (PATH, {"time": "week", "model_id": 1}),
    (PATH, {"model_id": 1, "provider_id": "alpha"}),
    (PATH + "/all", {"provider_id": "alpha"}),
    (PATH + "/all", {"model_id": "1.5", "provider_id": "alpha"}),
    (PATH + "/all", {"model_id": 1}),
])
async def test_missing_or_non_integer_parameters_are_a_422(app: Running, path: str, params: dict[str, Any]) -> None:
    resp = await tps(app, path, **params)
    assert resp.status_code == 422, resp.text


async def test_on_postgresql_the_all_time_figure_of_a_pair_of_its_own(postgres_url: str) -> None:
    tag = uuid.uuid4().hex[:8]
    model, provider = f"tps/{tag}", f"prov-{tag}"
    async with running_app(postgres_url) as r:
        engine = await r.service("engine")
        now = datetime.now(UTC)
        async with engine.begin() as conn:
            await conn.execute(insert(models).values(id=model, name=f'Quote "{tag}"', context_length=1,
                                                     max_output_tokens=1, created_at=now, updated_at=now))
        await record(r, model, provider, 4, tokens=(50, 50), ms=500)
        resp = await tps(r, PATH + "/all", model_id=await number(r, model), provider_id=provider)
    assert resp.status_code == 200
    [sample] = samples(resp.text)
    assert sample.labels == {"model": f'Quote "{tag}"', "provider": provider, "requests": "4",
                             "total_tokens": "400"}
    assert sample.value == 200.0
