"""The inference data plane over HTTP: the real app in-process (SQLite, in-process breakers) and a
scripted fake upstream in the same event loop. Covers the routes, validation, resolution, the
failover and breaker rules, and the one request row per request."""

from __future__ import annotations

import shutil
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapters.catalog_file import load_catalog_file
from adapters.postgres.tables import chat_completion_requests as ccr
from gatewayz.migrations import migrate
from tests.conftest import in_thread
from tests.fakes.upstream import FakeUpstream, Script
from tests.harness import Running, bearer, running_app
from tests.integration.inference_kit import (
    CATALOG,
    KEYS,
    MESSAGES,
    PROMPT_TOKENS,
    REPLY,
    REPLY_TOKENS,
    chunk_text,
    provider_env,
    sse_data,
    sse_events,
    sse_json,
)
from tests.services import unique_name

READ_TIMEOUT_S = 0.8  # generous: a loaded CI box must not turn a healthy answer into a timeout
SLOW = Script(delay_s=2.0)  # answers long after the gateway's read timeout


@dataclass
class Gateway:
    r: Running
    fake: FakeUpstream
    key: str
    user_id: int | None

    async def chat(self, *, key: str | None = "default", **body: Any) -> Any:
        body.setdefault("model", "acme/chat")
        body.setdefault("messages", MESSAGES)
        headers = bearer(self.key if key == "default" else key) if key else {}
        return await self.r.client.post("/v1/chat/completions", json=body, headers=headers)

    async def rows(self, *, everyone: bool = False) -> list[dict[str, Any]]:
        """This test's user's request rows (or every row), oldest first, after flushing the write-behind."""
        await self.r.written()
        engine = await self.r.service("engine")
        query = select(ccr).order_by(ccr.c.id)
        if not everyone:
            query = query.where(ccr.c.user_id == self.user_id)
        async with engine.connect() as conn:
            return [dict(row) for row in (await conn.execute(query)).mappings().all()]


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once per module; each app gets a copy (migrating costs more than most tests)."""
    path = tmp_path_factory.mktemp("inference-template") / "gatewayz.db"
    in_thread(migrate, f"sqlite+aiosqlite:///{path}")
    return path


def database_copy(template: Path, directory: Path) -> str:
    shutil.copy(template, directory / "gatewayz.db")
    return f"sqlite+aiosqlite:///{directory}/gatewayz.db"


@asynccontextmanager
async def gateway_app(database_url: str, fake: FakeUpstream, **env: Any) -> AsyncIterator[Running]:
    """The app with the test catalog loaded, every provider pointed at `fake`, and short timeouts."""
    settings = provider_env(fake.url, UPSTREAM_READ_TIMEOUT_S=READ_TIMEOUT_S,
                            UPSTREAM_FIRST_BYTE_TIMEOUT_S=READ_TIMEOUT_S, UPSTREAM_CONNECT_TIMEOUT_S=1, **env)
    async with running_app(database_url, **settings) as r:
        providers, models = load_catalog_file(CATALOG)
        await (await r.service("load_catalog"))(providers, models)
        yield r


@pytest.fixture(scope="module")
async def shared(migrated_sqlite: Path, tmp_path_factory: pytest.TempPathFactory
                 ) -> AsyncIterator[tuple[Running, FakeUpstream]]:
    """One app and one fake for the module: starting them per test would cost more than the tests."""
    async with FakeUpstream() as fake, gateway_app(
            database_copy(migrated_sqlite, tmp_path_factory.mktemp("inference-db")), fake) as r:
        yield r, fake


@pytest.fixture
async def gw(shared: tuple[Running, FakeUpstream]) -> Gateway:
    """Per test: an unscripted fake with no recorded requests, closed breakers, and a user of its own
    (so its key's rate limits and its request rows are its own)."""
    r, fake = shared
    fake.reset()
    await (await r.service("breakers")).reset_all()
    user_id, key = await r.user(f"{unique_name('user')}@example.com", credits=100)
    return Gateway(r=r, fake=fake, key=key, user_id=user_id)


def tokens_of(usage: dict[str, Any]) -> tuple[int, int, int]:
    return usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]


def error_of(resp: Any) -> dict[str, Any]:
    return resp.json()["error"]  # type: ignore[no-any-return]


# ------------------------------------------------------------------ chat: shapes and headers


async def test_chat_returns_a_completion_under_the_canonical_model_with_gateway_headers(gw: Gateway) -> None:
    resp = await gw.chat(model="chat")  # an alias
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["object"] == "chat.completion" and body["model"] == "acme/chat"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": REPLY, "refusal": None}
    assert tokens_of(body["usage"]) == (PROMPT_TOKENS, REPLY_TOKENS, PROMPT_TOKENS + REPLY_TOKENS)
    assert resp.headers["content-type"].startswith("application/json")
    assert len(resp.headers["x-request-id"]) >= 16
    assert resp.headers["x-gatewayz-provider"] == "alpha" and resp.headers["x-gatewayz-model"] == "acme/chat"
    assert float(resp.headers["x-gatewayz-overhead-ms"]) >= 0
    sent = gw.fake.requests[-1]
    assert sent.path == "/v1/chat/completions" and sent.json["model"] == "chat-a"
    assert sent.headers["authorization"] == f"Bearer {KEYS['ALPHA_API_KEY']}"
    assert sent.json["messages"] == MESSAGES and "stream" not in sent.json


async def test_a_stream_is_unbuffered_sse_ending_in_done_without_usage_unless_asked(gw: Gateway) -> None:
    resp = await gw.chat(stream=True)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert resp.headers["cache-control"] == "no-cache" and resp.headers["x-accel-buffering"] == "no"
    assert resp.headers["x-gatewayz-provider"] == "alpha" and resp.headers["x-gatewayz-model"] == "acme/chat"
    assert resp.text.endswith("data: [DONE]\n\n") and sse_data(resp.text).count("[DONE]") == 1
    chunks = sse_json(resp.text)
    assert chunks and all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunk_text(chunks) == REPLY
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert not any("usage" in c for c in chunks)
    # The gateway always asks the upstream for usage (billing needs it), even when the client did not.
    assert gw.fake.requests[-1].json["stream_options"] == {"include_usage": True}

    with_usage = await gw.chat(stream=True, stream_options={"include_usage": True})
    chunks = sse_json(with_usage.text)
    assert with_usage.text.endswith("data: [DONE]\n\n")
    assert chunks[-1]["choices"] == []
    assert tokens_of(chunks[-1]["usage"]) == (PROMPT_TOKENS, REPLY_TOKENS, PROMPT_TOKENS + REPLY_TOKENS)
    assert sum(1 for c in chunks if "usage" in c) == 1


async def test_unknown_fields_reach_the_provider_and_gateway_fields_do_not(gw: Gateway) -> None:
    resp = await gw.chat(provider="alpha", auto_web_search="never", web_search_threshold=0.5, seed=7,
                         vendor_extension={"depth": 3}, response_format={"type": "json_object"},
                         messages=[{"role": "user", "content": [
                             {"type": "text", "text": "what is this"},
                             {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}])
    assert resp.status_code == 200, resp.text
    sent = gw.fake.requests[-1].json
    assert sent["vendor_extension"] == {"depth": 3} and sent["seed"] == 7
    assert sent["response_format"] == {"type": "json_object"}
    assert sent["messages"][0]["content"][1] == {"type": "image_url",
                                                 "image_url": {"url": "data:image/png;base64,AAAA"}}
    assert not {"provider", "auto_web_search", "web_search_threshold"} & sent.keys()


@pytest.mark.parametrize(("change", "field"), [
    ({"temperature": 3}, "temperature"),
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "robot", "content": "hi"}]}, "messages.0.role"),
    ({"top_logprobs": 21}, "top_logprobs"),
    ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ({"max_tokens": 0}, "max_tokens"),
])
async def test_out_of_bounds_input_is_a_422_naming_the_field(gw: Gateway, change: dict[str, Any],
                                                             field: str) -> None:
    resp = await gw.chat(**change)
    assert resp.status_code == 422, resp.text
    error = error_of(resp)
    assert error["param"] == field and error["type"] == "invalid_request_error"
    assert error["message"].startswith(field + ":")
    detail = resp.json()["detail"]
    assert detail[0]["loc"] == ["body", *(int(p) if p.isdigit() else p for p in field.split("."))]
    assert gw.fake.requests == []


async def test_an_unknown_model_is_a_404_with_suggestions_and_never_reaches_a_provider(gw: Gateway) -> None:
    resp = await gw.chat(model="acme/chatt")
    assert resp.status_code == 404, resp.text
    error = error_of(resp)
    assert error["code"] == "model_not_found" and error["param"] == "model"
    assert "acme/chat" in error["suggestions"] and len(error["suggestions"]) <= 5
    assert "acme/chatt" in error["message"]
    assert gw.fake.requests == []


async def test_a_provider_pin_keeps_the_request_on_that_provider(gw: Gateway) -> None:
    resp = await gw.chat(provider="beta")
    assert resp.status_code == 200 and resp.headers["x-gatewayz-provider"] == "beta"
    assert gw.fake.count("chat-b") == 1 and gw.fake.count("chat-a") == 0

    gw.fake.script("chat-b", Script(status=500))
    failed = await gw.chat(provider="Beta")  # pins are case-insensitive; a pinned failure does not escape the pin
    assert failed.status_code == 502 and gw.fake.count("chat-a") == 0

    elsewhere = await gw.chat(provider="dead", model="acme/claude")
    assert elsewhere.status_code == 422 and error_of(elsewhere)["param"] == "provider"


# ------------------------------------------------------------------ failover rules


@pytest.mark.parametrize("status", [401, 402, 403, 404, 408, 429, 500, 502, 503])
async def test_these_upstream_statuses_fail_over_to_the_next_offer(gw: Gateway, status: int) -> None:
    gw.fake.script("chat-a", Script(status=status))
    resp = await gw.chat()
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-gatewayz-provider"] == "beta" and resp.json()["model"] == "acme/chat"
    assert (gw.fake.count("chat-a"), gw.fake.count("chat-b"), gw.fake.count("chat-c")) == (1, 1, 0)
    [row] = await gw.rows()
    assert row["status"] == "completed" and row["provider"] == "beta"


async def test_a_refused_connection_fails_over(gw: Gateway) -> None:
    resp = await gw.chat(model="acme/fragile")
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-gatewayz-provider"] == "beta" and gw.fake.count("fragile-b") == 1


async def test_a_timeout_fails_over(gw: Gateway) -> None:
    gw.fake.script("chat-a", SLOW)
    began = time.perf_counter()
    resp = await gw.chat()
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-gatewayz-provider"] == "beta"
    assert READ_TIMEOUT_S <= time.perf_counter() - began < SLOW.delay_s
    # The wait on the provider that timed out is upstream time, not gateway overhead.
    assert float(resp.headers["x-gatewayz-overhead-ms"]) < READ_TIMEOUT_S * 1000

    streamed = await gw.chat(stream=True)
    assert streamed.headers["x-gatewayz-provider"] == "beta"
    assert float(streamed.headers["x-gatewayz-overhead-ms"]) < READ_TIMEOUT_S * 1000


@pytest.mark.parametrize("status", [400, 413, 422])
async def test_client_faults_come_back_with_the_upstream_status_sanitised_and_no_failover(
        gw: Gateway, status: int) -> None:
    leak = (f"bad field; key {KEYS['ALPHA_API_KEY']} Authorization: Bearer abc.def.ghi "
            f"see https://internal.alpha.corp/debug host {gw.fake.host}:{gw.fake.port}")
    gw.fake.script("chat-a", Script(status=status, error_message=leak))
    resp = await gw.chat()
    assert resp.status_code == status, resp.text
    message = error_of(resp)["message"]
    assert message.startswith("bad field")
    for secret in (KEYS["ALPHA_API_KEY"], "abc.def.ghi", "internal.alpha.corp", f"{gw.fake.host}:{gw.fake.port}"):
        assert secret not in resp.text
    assert gw.fake.count("chat-a") == 1 and gw.fake.count("chat-b") == 0
    [row] = await gw.rows()
    assert row["status"] == "failed" and row["provider"] is None


async def test_when_every_offer_fails_the_client_gets_a_502(gw: Gateway) -> None:
    for native in ("chat-a", "chat-b", "chat-c"):
        gw.fake.script(native, Script(status=500))
    resp = await gw.chat()
    assert resp.status_code == 502, resp.text
    assert error_of(resp)["message"] == "All providers failed"
    assert [gw.fake.count(n) for n in ("chat-a", "chat-b", "chat-c")] == [1, 1, 1]
    [row] = await gw.rows()
    assert row["status"] == "failed" and row["error_message"] == "All providers failed"
    assert row["model"] == "acme/chat" and row["provider"] is None


async def test_when_every_offer_times_out_the_client_gets_a_504(gw: Gateway) -> None:
    gw.fake.script("duo-a", SLOW)
    gw.fake.script("duo-b", SLOW)
    resp = await gw.chat(model="acme/duo")
    assert resp.status_code == 504, resp.text
    assert error_of(resp)["type"] == "timeout_error"
    assert gw.fake.count("duo-a") == 1 and gw.fake.count("duo-b") == 1


async def test_a_mix_of_timeouts_and_failures_is_a_502(gw: Gateway) -> None:
    gw.fake.script("duo-a", SLOW)
    gw.fake.script("duo-b", Script(status=503))
    resp = await gw.chat(model="acme/duo")
    assert resp.status_code == 502, resp.text


async def test_when_the_last_offer_says_429_the_client_gets_429_with_retry_after(gw: Gateway) -> None:
    gw.fake.script("duo-a", Script(status=500))
    gw.fake.script("duo-b", Script(status=429, retry_after="7"))
    resp = await gw.chat(model="acme/duo")
    assert resp.status_code == 429, resp.text
    assert resp.headers["retry-after"] == "7" and resp.headers["x-ratelimit-scope"] == "upstream"
    assert error_of(resp)["type"] == "rate_limit_error"

    gw.fake.reset()
    gw.fake.script("duo-a", Script(status=429, retry_after="7"))
    gw.fake.script("duo-b", Script(status=500))
    assert (await gw.chat(model="acme/duo")).status_code == 502  # an earlier 429 is not the outcome


@pytest.mark.parametrize("script", [Script(status=503), Script(drop_after_chunks=0), SLOW],
                         ids=["status", "cut-after-preamble", "timeout"])
async def test_a_stream_fails_over_before_its_first_chunk(gw: Gateway, script: Script) -> None:
    gw.fake.script("chat-a", script)  # drop_after_chunks=0: the role preamble gets out, then the cut
    resp = await gw.chat(stream=True)
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-gatewayz-provider"] == "beta"
    assert chunk_text(sse_json(resp.text)) == REPLY and resp.text.endswith("data: [DONE]\n\n")
    assert "error" not in resp.text
    assert gw.fake.count("chat-a") == 1 and gw.fake.count("chat-b") == 1


async def test_a_connection_cut_before_a_plain_answer_fails_over(gw: Gateway) -> None:
    gw.fake.script("chat-a", Script(drop_after_chunks=0))  # non-stream: the socket closes before any byte
    resp = await gw.chat()
    assert resp.status_code == 200 and resp.headers["x-gatewayz-provider"] == "beta"


@pytest.mark.parametrize("script", [Script(stream_chunks=4, drop_after_chunks=1),
                                    Script(stream_chunks=4, chunk_delay_s=1.0)], ids=["cut", "stall"])
async def test_a_stream_broken_after_its_first_chunk_ends_with_an_error_frame_and_no_failover(
        gw: Gateway, script: Script) -> None:
    gw.fake.script("chat-a", script)
    resp = await gw.chat(stream=True)
    assert resp.status_code == 200 and resp.headers["x-gatewayz-provider"] == "alpha"
    data = sse_data(resp.text)
    assert data[-1] == "[DONE]" and data.count("[DONE]") == 1
    frames = sse_json(resp.text)
    assert chunk_text(frames) == "Hello"  # the one chunk that got through
    assert set(frames[-1]) == {"error"} and frames[-1]["error"]["type"] == "upstream_error"
    assert gw.fake.count("chat-b") == 0
    [row] = await gw.rows()
    assert row["status"] == "failed" and row["provider"] == "alpha" and row["error_message"]
    assert row["time_to_first_token_ms"] is not None and row["output_tokens"] >= 1  # what was produced counts


# ------------------------------------------------------------------ the request row


async def test_each_request_writes_exactly_one_row_with_what_happened(gw: Gateway) -> None:
    ok = await gw.chat()
    streamed = await gw.chat(stream=True)
    gw.fake.script("duo-a", Script(status=500))
    gw.fake.script("duo-b", Script(status=500))
    failed = await gw.chat(model="acme/duo")
    missing = await gw.chat(model="acme/none")
    assert [ok.status_code, streamed.status_code, failed.status_code, missing.status_code] == [200, 200, 502, 404]
    rows = await gw.rows()
    assert len(rows) == 4 and len({r["request_id"] for r in rows}) == 4
    first, second, third, fourth = rows
    for row in rows:
        assert row["user_id"] == gw.user_id and row["api_key_id"] is not None and row["is_anonymous"] is False
        assert row["processing_time_ms"] >= 0 and row["created_at"] is not None
    assert first["status"] == "completed" and first["provider"] == "alpha" and first["model"] == "acme/chat"
    assert (first["input_tokens"], first["output_tokens"]) == (PROMPT_TOKENS, REPLY_TOKENS)
    assert first["usage_estimated"] is False and first["time_to_first_token_ms"] is None
    assert second["status"] == "completed" and second["provider"] == "alpha"
    assert (second["input_tokens"], second["output_tokens"]) == (PROMPT_TOKENS, REPLY_TOKENS)
    assert second["time_to_first_token_ms"] is not None and second["usage_estimated"] is False
    assert third["status"] == "failed" and third["provider"] is None and third["model"] == "acme/duo"
    assert third["error_message"] == "All providers failed"
    assert fourth["status"] == "failed" and fourth["model"] == "acme/none"


async def test_a_provider_without_usage_gets_an_estimate_marked_as_such(gw: Gateway) -> None:
    gw.fake.script("chat-a", Script(omit_usage=True))
    assert (await gw.chat()).status_code == 200
    assert (await gw.chat(stream=True)).status_code == 200
    rows = await gw.rows()
    assert [r["usage_estimated"] for r in rows] == [True, True]
    assert all(r["input_tokens"] > 0 and r["output_tokens"] > 0 for r in rows)


# ------------------------------------------------------------------ anonymous callers and breakers


async def test_anonymous_callers_reach_only_the_allowed_models(migrated_sqlite: Path, tmp_path: Path) -> None:
    async with FakeUpstream() as fake, gateway_app(database_copy(migrated_sqlite, tmp_path), fake,
                                                   ANONYMOUS_ALLOWED_MODELS="acme/free") as r:
        user_id, key = await r.user("someone@example.com", credits=100)
        gw = Gateway(r=r, fake=fake, key=key, user_id=user_id)
        refused = await gw.chat(key=None)
        assert refused.status_code == 403, refused.text
        assert error_of(refused)["message"] == "Model not available for anonymous use"
        assert fake.requests == []
        allowed = await gw.chat(key=None, model="acme/free")
        assert allowed.status_code == 200, allowed.text
        assert allowed.json()["model"] == "acme/free" and fake.count("free-a") == 1
        keyed = await gw.chat()
        assert keyed.status_code == 200
        bad_key = await gw.chat(key="gw_live_not-a-real-key", model="acme/free")
        assert bad_key.status_code == 401  # a wrong key is never downgraded to anonymous
        rows = await gw.rows(everyone=True)
        assert [(r["is_anonymous"], r["user_id"], r["status"]) for r in rows] == [
            (True, None, "failed"), (True, None, "completed"), (False, user_id, "completed")]


def failovers(metrics: str) -> float:
    line = 'provider_failover_total{provider="alpha",reason="500"} '
    return sum(float(x[len(line):]) for x in metrics.splitlines() if x.startswith(line))


async def test_five_failures_open_the_breaker_and_the_next_request_skips_the_provider(gw: Gateway) -> None:
    failed_over_before = failovers((await gw.r.client.get("/metrics")).text)
    gw.fake.script("chat-a", Script(status=500))
    for _ in range(5):
        assert (await gw.chat()).headers["x-gatewayz-provider"] == "beta"
    breaker = (await gw.r.client.get("/circuit-breakers/alpha")).json()
    assert breaker["state"] == "open" and breaker["failure_count"] == 5
    assert (await gw.r.client.get("/circuit-breakers/beta")).json()["state"] == "closed"
    resp = await gw.chat()
    assert resp.status_code == 200 and resp.headers["x-gatewayz-provider"] == "beta"
    assert gw.fake.count("chat-a") == 5 and gw.fake.count("chat-b") == 6
    metrics = (await gw.r.client.get("/metrics")).text
    assert failovers(metrics) == failed_over_before + 5
    assert 'circuit_breaker_state{provider="alpha"} 1.0' in metrics


async def test_client_faults_do_not_count_against_the_breaker(gw: Gateway) -> None:
    gw.fake.script("chat-a", Script(status=400))
    for _ in range(6):
        assert (await gw.chat()).status_code == 400
    breaker = (await gw.r.client.get("/circuit-breakers/alpha")).json()
    assert breaker["state"] == "closed" and breaker["failure_count"] == 0
    assert gw.fake.count("chat-a") == 6


# ------------------------------------------------------------------ legacy completions and embeddings


async def test_legacy_completions_work_and_stream(gw: Gateway) -> None:
    resp = await gw.r.client.post("/v1/completions", headers=bearer(gw.key),
                                  json={"model": "acme/chat", "prompt": "Say hello please", "max_tokens": 50})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["object"] == "text_completion" and body["model"] == "acme/chat"
    assert body["choices"][0]["text"] == REPLY and body["usage"]["prompt_tokens"] == 3
    assert gw.fake.requests[-1].path == "/v1/completions" and gw.fake.requests[-1].json["model"] == "chat-a"

    streamed = await gw.r.client.post("/v1/completions", headers=bearer(gw.key),
                                      json={"model": "acme/chat", "prompt": "hi", "stream": True})
    assert streamed.status_code == 200 and streamed.text.endswith("data: [DONE]\n\n")
    assert "".join(c["choices"][0]["text"] for c in sse_json(streamed.text) if c["choices"]) == REPLY


async def test_an_anthropic_first_model_fails_over_for_legacy_completions(gw: Gateway) -> None:
    resp = await gw.r.client.post("/v1/completions", headers=bearer(gw.key),
                                  json={"model": "acme/claude", "prompt": "hi"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-gatewayz-provider"] == "alpha" and gw.fake.count("claude-c") == 0


async def test_embeddings_work_and_fail_over(gw: Gateway) -> None:
    resp = await gw.r.client.post("/v1/embeddings", headers=bearer(gw.key),
                                  json={"model": "acme/embed", "input": ["one two", "three"]})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["object"] == "list" and [d["index"] for d in body["data"]] == [0, 1]
    assert len(body["data"][0]["embedding"]) == 8 and body["usage"]["prompt_tokens"] == 3
    assert resp.headers["x-gatewayz-provider"] == "alpha" and gw.fake.requests[-1].path == "/v1/embeddings"

    gw.fake.script("embed-a", Script(status=503))
    again = await gw.r.client.post("/v1/embeddings", headers=bearer(gw.key),
                                   json={"model": "acme/embed", "input": "x"})
    assert again.status_code == 200 and again.headers["x-gatewayz-provider"] == "beta"
    rows = await gw.rows()
    assert [(r["operation"], r["provider"], r["input_tokens"]) for r in rows] == [
        ("embedding", "alpha", 3), ("embedding", "beta", 1)]

    tokens = await gw.r.client.post("/v1/embeddings", headers=bearer(gw.key),
                                    json={"model": "acme/embed", "input": [101, 102, 103]})
    assert tokens.status_code == 200, tokens.text
    assert gw.fake.requests[-1].json["input"] == [101, 102, 103] and tokens.json()["usage"]["prompt_tokens"] == 3
    empty = await gw.r.client.post("/v1/embeddings", headers=bearer(gw.key), json={"model": "acme/embed", "input": []})
    assert empty.status_code == 422 and error_of(empty)["param"] == "input"


# ------------------------------------------------------------------ Anthropic Messages


def messages_body(model: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "max_tokens": 100, "system": "Be brief",
            "messages": [{"role": "user", "content": "Say hello please"}], **extra}


async def test_messages_via_the_native_provider_pass_the_body_through(gw: Gateway) -> None:
    resp = await gw.r.client.post("/v1/messages", headers={"x-api-key": gw.key},
                                  json=messages_body("acme/claude", top_k=5, metadata={"user_id": "u1"},
                                                     provider="claude"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["type"] == "message" and body["role"] == "assistant" and body["model"] == "acme/claude"
    assert body["content"] == [{"type": "text", "text": REPLY}] and body["stop_reason"] == "end_turn"
    assert body["usage"] == {"input_tokens": 3 + 3 + 2, "output_tokens": REPLY_TOKENS}  # the fake: words + 3, + system
    assert resp.headers["x-gatewayz-provider"] == "claude"
    sent = gw.fake.requests[-1]
    assert sent.path == "/v1/messages" and sent.headers["x-api-key"] == KEYS["CLAUDE_API_KEY"]
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.json["model"] == "claude-c" and sent.json["top_k"] == 5 and sent.json["system"] == "Be brief"
    assert sent.json["metadata"] == {"user_id": "u1"} and "provider" not in sent.json


async def test_messages_via_an_openai_provider_are_translated_both_ways(gw: Gateway) -> None:
    resp = await gw.r.client.post("/v1/messages", headers={"x-api-key": gw.key},
                                  json=messages_body("acme/chat", stop_sequences=["END"]))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["type"] == "message" and body["model"] == "acme/chat"
    assert body["content"] == [{"type": "text", "text": REPLY}] and body["stop_reason"] == "end_turn"
    assert body["usage"] == {"input_tokens": PROMPT_TOKENS, "output_tokens": REPLY_TOKENS}
    assert resp.headers["x-gatewayz-provider"] == "alpha"
    sent = gw.fake.requests[-1]
    assert sent.path == "/v1/chat/completions" and sent.json["model"] == "chat-a"
    assert sent.json["messages"] == MESSAGES and sent.json["max_tokens"] == 100 and sent.json["stop"] == ["END"]


def check_message_stream(text: str, model: str) -> None:
    events = sse_events(text)
    names = [name for name, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert names.count("content_block_start") == names.count("content_block_stop") == 1
    assert events[0][1]["message"]["model"] == model
    assert "".join(d["delta"]["text"] for n, d in events if n == "content_block_delta") == REPLY
    delta = events[-2][1]
    assert delta["delta"]["stop_reason"] == "end_turn" and delta["usage"]["output_tokens"] == REPLY_TOKENS
    assert all(d["type"] == n for n, d in events)


async def test_messages_stream_via_the_native_provider_and_via_translation(gw: Gateway) -> None:
    for model, provider, path in (("acme/claude", "claude", "/v1/messages"),
                                  ("acme/chat", "alpha", "/v1/chat/completions")):
        resp = await gw.r.client.post("/v1/messages", headers={"x-api-key": gw.key},
                                      json=messages_body(model, stream=True))
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"].startswith("text/event-stream")
        assert resp.headers["x-gatewayz-provider"] == provider and gw.fake.requests[-1].path == path
        check_message_stream(resp.text, model)


async def test_messages_errors_use_the_anthropic_envelope(gw: Gateway) -> None:
    missing = await gw.r.client.post("/v1/messages", headers={"x-api-key": gw.key},
                                     json=messages_body("acme/none"))
    assert missing.status_code == 404
    assert missing.json()["type"] == "error" and missing.json()["error"]["type"] == "not_found_error"
    invalid = await gw.r.client.post("/v1/messages", headers={"x-api-key": gw.key},
                                     json={"model": "acme/claude", "messages": []})
    assert invalid.status_code == 422 and invalid.json()["error"]["type"] == "invalid_request_error"
    bad_key = await gw.r.client.post("/v1/messages", headers={"x-api-key": "gw_live_nope"},
                                     json=messages_body("acme/claude"))
    assert bad_key.status_code == 401 and bad_key.json()["error"]["type"] == "authentication_error"
    gw.fake.script("claude-c", Script(status=500))
    gw.fake.script("claude-a", Script(status=500))
    failed = await gw.r.client.post("/v1/messages", headers={"x-api-key": gw.key},
                                    json=messages_body("acme/claude"))
    assert failed.status_code == 502 and failed.json()["error"]["type"] == "api_error"


# ------------------------------------------------------------------ AI SDK routes


@pytest.mark.parametrize("path", ["/api/chat/ai-sdk", "/api/chat/ai-sdk-completions"])
async def test_ai_sdk_routes_need_a_key_and_answer_plain_and_streamed(gw: Gateway, path: str) -> None:
    body = {"model": "acme/chat", "messages": [{"role": "user", "content": "Say hello please"}]}
    assert (await gw.r.client.post(path, json=body)).status_code == 401
    assert gw.fake.requests == []

    plain = await gw.r.client.post(path, json=body, headers=bearer(gw.key))
    assert plain.status_code == 200, plain.text
    assert plain.json()["choices"] == [{"message": {"role": "assistant", "content": REPLY}, "finish_reason": "stop"}]
    assert tokens_of(plain.json()["usage"]) == (6, REPLY_TOKENS, 6 + REPLY_TOKENS)
    assert plain.headers["x-gatewayz-provider"] == "alpha"

    streamed = await gw.r.client.post(path, json={**body, "stream": True}, headers=bearer(gw.key))
    assert streamed.status_code == 200 and streamed.headers["content-type"].startswith("text/event-stream")
    assert "no-cache" in streamed.headers["cache-control"]
    frames = sse_json(streamed.text)
    assert streamed.text.endswith("data: [DONE]\n\n")
    assert "".join(f["choices"][0]["delta"]["content"] for f in frames[:-1]) == REPLY
    assert frames[-1] == {"choices": [{"finish_reason": "stop"}]}
    rows = await gw.rows()  # the same pipeline, so the same record (and billing) on both paths
    assert [(r["status"], r["provider"], r["user_id"]) for r in rows] == [("completed", "alpha", gw.user_id)] * 2


# ------------------------------------------------------------------ request ids on every answer


def quoted_id(resp: Any) -> str:
    """The gateway's id, from the header and the error body alike (they must agree)."""
    rid = resp.headers["x-gatewayz-request-id"]
    assert len(rid) == 32, rid
    if resp.status_code >= 400:
        assert error_of(resp)["request_id"] == rid, resp.text
    return str(rid)


async def test_every_inference_answer_and_error_carries_the_gateway_request_id(gw: Gateway) -> None:
    _, poor_key = await gw.r.user(f"{unique_name('poor')}@example.com", credits=0)
    outcomes: dict[int, Any] = {}
    outcomes[200] = await gw.chat()
    outcomes[401] = await gw.chat(key="gw_live_not-a-real-key")
    outcomes[402] = await gw.chat(key=poor_key)
    outcomes[404] = await gw.chat(model="acme/none")
    outcomes[422] = await gw.chat(temperature=9)
    gw.fake.script("duo-a", Script(status=500))
    gw.fake.script("duo-b", Script(status=429, retry_after="3"))
    outcomes[429] = await gw.chat(model="acme/duo")
    gw.fake.script("duo-b", Script(status=500))
    outcomes[502] = await gw.chat(model="acme/duo")
    gw.fake.script("duo-a", SLOW)
    gw.fake.script("duo-b", SLOW)
    outcomes[504] = await gw.chat(model="acme/duo")
    assert {status: resp.status_code for status, resp in outcomes.items()} == {s: s for s in outcomes}
    ids = {status: quoted_id(resp) for status, resp in outcomes.items()}
    assert len(set(ids.values())) == len(ids)
    rows = {row["request_id"]: row for row in await gw.rows()}
    # the ones that reached the pipeline are findable by the quoted id: a support request can be answered
    for status in (200, 404, 429, 502, 504):
        assert rows[ids[status]]["status"] == ("completed" if status == 200 else "failed"), status
    assert rows[ids[502]]["error_message"] == "All providers failed"


async def test_a_stream_error_frame_quotes_the_request_id(gw: Gateway) -> None:
    gw.fake.script("chat-a", Script(drop_after_chunks=1))
    resp = await gw.chat(stream=True)
    frames = sse_json(resp.text)
    assert frames[-1]["error"]["request_id"] == resp.headers["x-gatewayz-request-id"]


async def test_the_clients_request_id_is_echoed_and_kept_beside_ours(gw: Gateway) -> None:
    body = {"model": "acme/chat", "messages": MESSAGES}
    first = await gw.r.client.post("/v1/chat/completions", json=body,
                                   headers={**bearer(gw.key), "X-Request-Id": "client-7"})
    again = await gw.r.client.post("/v1/chat/completions", json=body,
                                   headers={**bearer(gw.key), "X-Request-Id": "client-7"})
    insane = await gw.r.client.post("/v1/chat/completions", json=body,
                                    headers={**bearer(gw.key), "X-Request-Id": "<b>no</b>"})
    assert first.headers["x-request-id"] == again.headers["x-request-id"] == "client-7"
    ours = [quoted_id(r) for r in (first, again, insane)]
    assert len(set(ours)) == 3  # a client reusing its id never collides with another row
    rows = {row["request_id"]: row for row in await gw.rows()}
    assert [rows[rid]["client_request_id"] for rid in ours] == ["client-7", "client-7", None]


async def test_without_anonymous_models_a_missing_key_is_401_not_a_catalog_answer(gw: Gateway) -> None:
    for model in ("acme/chat", "acme/none"):
        resp = await gw.chat(key=None, model=model)
        assert resp.status_code == 401, resp.text
        assert error_of(resp)["code"] == "missing_api_key"
        quoted_id(resp)
    assert gw.fake.requests == []
