"""The response cache through the real app, the fake upstream and the official openai and anthropic
SDKs: on SQLite (the memory cache) and on PostgreSQL with Redis (the Redis cache). A hit reaches no
provider and charges nothing; its row says so with the seed's metadata keys."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import anthropic
import httpx
import httpx2
import openai
import pytest
from sqlalchemy import select

from adapters.catalog_file.loader import load_catalog_file
from adapters.postgres.tables import chat_completion_requests as ccr
from adapters.postgres.tables import credit_transactions as ct
from domain.inference import Caller, InferenceRequest, Operation
from tests.fakes.upstream import FakeUpstream, Script
from tests.harness import Running, bearer, running_app
from tests.integration.inference_kit import (
    CATALOG,
    MESSAGES,
    PROMPT_TOKENS,
    REPLY,
    REPLY_TOKENS,
    provider_env,
    sse_json,
)
from tests.services import unique_name

COST = (Decimal(PROMPT_TOKENS) * 1 + Decimal(REPLY_TOKENS) * 2) / Decimal(1_000_000)  # acme/chat on alpha


@dataclass
class Gateway:
    r: Running
    fake: FakeUpstream
    user_id: int
    key: str

    def openai(self, key: str | None = None, **headers: str) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url="http://testserver/v1", api_key=key or self.key, max_retries=0,
                                  http_client=self._http(), default_headers=headers or None)

    def anthropic(self) -> anthropic.AsyncAnthropic:
        http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=self.r.app), base_url="http://testserver")
        return anthropic.AsyncAnthropic(base_url="http://testserver", api_key=self.key, max_retries=0,
                                        http_client=http)

    def _http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.r.app), base_url="http://testserver")

    async def chat(self, key: str | None = None, headers: dict[str, str] | None = None, **body: Any) -> Any:
        body = {"model": "acme/chat", "messages": MESSAGES, **body}
        return await self.r.client.post("/v1/chat/completions", json=body, timeout=30,
                                        headers={**bearer(key or self.key), **(headers or {})})

    async def rows(self, user_id: int | None = None) -> list[dict[str, Any]]:
        await self.r.written()
        engine = await self.r.service("engine")
        async with engine.connect() as conn:
            result = await conn.execute(select(ccr).where(ccr.c.user_id == (user_id or self.user_id))
                                        .order_by(ccr.c.created_at, ccr.c.id))
            return [dict(row) for row in result.mappings().all()]

    async def ledger(self) -> list[Decimal]:
        await self.r.written()
        engine = await self.r.service("engine")
        async with engine.connect() as conn:
            rows = await conn.execute(select(ct.c.amount).where(ct.c.user_id == self.user_id).order_by(ct.c.id))
            return [Decimal(a) for a in rows.scalars()]


async def start(request: pytest.FixtureRequest, backend: str, **env: Any) -> AsyncIterator[Gateway]:
    extra: dict[str, Any] = {}
    if backend == "postgres":
        url = request.getfixturevalue("postgres_url")
        extra = {"REDIS_URL": request.getfixturevalue("redis_url"),
                 "REDIS_PREFIX": request.getfixturevalue("redis_prefix")}
    else:
        url = request.getfixturevalue("sqlite_url")
    async with FakeUpstream() as fake, running_app(url, **provider_env(fake.url), **extra, **env) as r:
        await (await r.service("load_catalog"))(*load_catalog_file(CATALOG))
        user_id, key = await r.user(unique_name("cached") + "@example.com", credits=1)
        yield Gateway(r, fake, user_id, key)


@pytest.fixture(params=["sqlite", "postgres"])
async def gw(request: pytest.FixtureRequest) -> AsyncIterator[Gateway]:
    async for g in start(request, request.param, RESPONSE_CACHE_ENABLED="true",
                         ANONYMOUS_ALLOWED_MODELS="acme/chat"):
        yield g


def extra(model: Any) -> dict[str, Any]:
    """Fields the SDK does not declare (usage.cost, gateway_usage)."""
    return dict(model.model_extra or {})


# ------------------------------------------------------------------ hits


async def test_the_second_identical_request_is_a_free_hit_the_provider_never_sees(gw: Gateway) -> None:
    client = gw.openai()
    first = await client.chat.completions.with_raw_response.create(model="acme/chat", messages=MESSAGES)
    second = await client.chat.completions.with_raw_response.create(model="acme/chat", messages=MESSAGES)
    assert (first.headers["x-gatewayz-cache"], second.headers["x-gatewayz-cache"]) == ("miss", "hit")
    assert gw.fake.count("chat-a") == 1
    a, b = first.parse(), second.parse()
    assert b.choices[0].message.content == a.choices[0].message.content == REPLY
    assert b.choices[0].finish_reason == "stop" and b.model == "acme/chat"
    assert b.usage is not None and (b.usage.prompt_tokens, b.usage.completion_tokens) == (PROMPT_TOKENS, REPLY_TOKENS)
    assert Decimal(str(extra(a.usage)["cost"])) == COST and extra(b.usage)["cost"] == 0
    usage = extra(b)["gateway_usage"]
    assert usage["cost_usd"] == 0 and Decimal(str(usage["cache_savings_usd"])) == COST
    assert second.headers["x-gatewayz-provider"] == "alpha"
    assert await gw.ledger() == [Decimal(1), -COST]  # the hit wrote no ledger row
    miss, hit = await gw.rows()
    assert miss["metadata"] == {"butter_cache_hit": False} and Decimal(miss["cost_usd"]) == COST
    assert hit["status"] == "completed" and Decimal(hit["cost_usd"]) == 0 and hit["provider"] == "alpha"
    assert (hit["input_tokens"], hit["output_tokens"]) == (PROMPT_TOKENS, REPLY_TOKENS)
    assert hit["metadata"]["butter_cache_hit"] is True
    assert Decimal(str(hit["metadata"]["actual_cost_usd"])) == COST
    user = await (await gw.r.service("show_user"))(gw.user_id)
    assert user.user.balance == Decimal(1) - COST


async def test_a_whole_answer_replays_as_a_stream_and_a_streamed_one_as_a_whole_answer(gw: Gateway) -> None:
    client = gw.openai()
    await client.chat.completions.create(model="acme/chat", messages=MESSAGES)  # whole original
    raw = await client.chat.completions.with_raw_response.create(
        model="acme/chat", messages=MESSAGES, stream=True, stream_options={"include_usage": True})
    assert raw.headers["x-gatewayz-cache"] == "hit" and raw.headers["content-type"].startswith("text/event-stream")
    chunks = [c async for c in raw.parse()]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == REPLY
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == REPLY_TOKENS and extra(chunks[-1].usage)["cost"] == 0
    assert gw.fake.count("chat-a") == 1

    other = [{"role": "user", "content": "A different question"}]
    streamed = await client.chat.completions.create(model="acme/chat", messages=other, stream=True)  # stream original
    assert "".join([c.choices[0].delta.content or "" async for c in streamed if c.choices]) == REPLY
    whole = await client.chat.completions.with_raw_response.create(model="acme/chat", messages=other)
    assert whole.headers["x-gatewayz-cache"] == "hit" and gw.fake.count("chat-a") == 2
    reply = whole.parse()
    assert reply.choices[0].message.content == REPLY and reply.choices[0].finish_reason == "stop"
    assert extra(reply.usage)["cost"] == 0
    ledger = await gw.ledger()
    assert len(ledger) == 3 and ledger[0] == 1 and ledger[1] == -COST and ledger[2] < 0  # two charges, no more


async def test_the_anthropic_route_reencodes_a_hit_in_its_own_shape_as_a_whole_and_a_stream(gw: Gateway) -> None:
    client = gw.anthropic()
    first = await client.messages.with_raw_response.create(model="acme/chat", max_tokens=100, messages=MESSAGES[1:])
    second = await client.messages.with_raw_response.create(model="acme/chat", max_tokens=100, messages=MESSAGES[1:])
    assert (first.headers["x-gatewayz-cache"], second.headers["x-gatewayz-cache"]) == ("miss", "hit")
    message = await second.parse()
    assert message.type == "message" and message.content[0].text == REPLY and message.stop_reason == "end_turn"
    assert message.usage.output_tokens == REPLY_TOKENS
    async with client.messages.stream(model="acme/chat", max_tokens=100, messages=MESSAGES[1:]) as stream:
        text = "".join([t async for t in stream.text_stream])
        final = await stream.get_final_message()
    assert text == REPLY and final.stop_reason == "end_turn"
    assert gw.fake.count("chat-a") == 1


async def test_the_ai_sdk_route_serves_hits_in_its_shape_and_the_metrics_count_them(gw: Gateway) -> None:
    body = {"model": "acme/chat", "messages": [{"role": "user", "content": "Say hello please"}]}
    first = await gw.r.client.post("/api/chat/ai-sdk", json=body, headers=bearer(gw.key))
    second = await gw.r.client.post("/api/chat/ai-sdk", json=body, headers=bearer(gw.key))
    assert (first.headers["x-gatewayz-cache"], second.headers["x-gatewayz-cache"]) == ("miss", "hit")
    hit = second.json()
    assert hit["choices"] == [{"message": {"role": "assistant", "content": REPLY}, "finish_reason": "stop"}]
    assert hit["usage"]["cost"] == 0 and hit["gateway_usage"]["cache_savings_usd"] > 0
    streamed = await gw.r.client.post("/api/chat/ai-sdk", json={**body, "stream": True}, headers=bearer(gw.key))
    assert streamed.headers["x-gatewayz-cache"] == "hit"
    frames = [json.loads(line[6:]) for line in streamed.text.split("\n") if line.startswith("data: {")]
    assert "".join(f["choices"][0]["delta"].get("content") or "" for f in frames if "delta" in f["choices"][0]) == REPLY
    assert gw.fake.count("chat-a") == 1
    metrics = (await gw.r.client.get("/metrics")).text
    assert 'gatewayz_response_cache_requests_total{result="hit"} 2.0' in metrics
    assert 'gatewayz_response_cache_requests_total{result="miss"} 1.0' in metrics
    assert "gatewayz_response_cache_savings_usd_total " in metrics


async def test_legacy_completions_hit_as_text_completions_whole_and_streamed(gw: Gateway) -> None:
    body = {"model": "acme/chat", "prompt": "Say hello please", "max_tokens": 50}
    post = gw.r.client.post
    first = await post("/v1/completions", headers=bearer(gw.key), json=body)
    second = await post("/v1/completions", headers=bearer(gw.key), json=body)
    assert (first.headers["x-gatewayz-cache"], second.headers["x-gatewayz-cache"]) == ("miss", "hit")
    assert gw.fake.count("chat-a") == 1
    hit = second.json()
    assert hit["object"] == "text_completion" and hit["model"] == "acme/chat"
    assert hit["choices"][0]["text"] == first.json()["choices"][0]["text"] == REPLY
    assert hit["choices"][0]["finish_reason"] == "stop" and hit["usage"]["cost"] == 0
    assert hit["usage"]["completion_tokens"] == first.json()["usage"]["completion_tokens"]
    streamed = await post("/v1/completions", headers=bearer(gw.key), json={**body, "stream": True})
    assert streamed.headers["x-gatewayz-cache"] == "hit" and streamed.text.endswith("data: [DONE]\n\n")
    events = sse_json(streamed.text)
    assert {e["object"] for e in events} == {"text_completion"}
    assert "".join(e["choices"][0]["text"] for e in events if e["choices"]) == REPLY
    assert gw.fake.count("chat-a") == 1
    chat = await gw.chat()  # the same words through the chat route are not the same request
    assert chat.headers["x-gatewayz-cache"] == "miss"
    other = {"model": "acme/chat", "prompt": "Something else", "stream": True}
    assert (await post("/v1/completions", headers=bearer(gw.key), json=other)).headers["x-gatewayz-cache"] == "miss"
    replay = await post("/v1/completions", headers=bearer(gw.key), json={**other, "stream": False})
    assert replay.headers["x-gatewayz-cache"] == "hit" and replay.json()["choices"][0]["text"] == REPLY
    assert len(await gw.ledger()) == 1 + 3  # the grant and the three misses


async def test_embeddings_are_never_cached(gw: Gateway) -> None:
    for _ in range(2):
        resp = await gw.r.client.post("/v1/embeddings", headers=bearer(gw.key),
                                      json={"model": "acme/embed", "input": "one two"})
        assert resp.status_code == 200 and resp.headers["x-gatewayz-cache"] == "bypass"
    assert gw.fake.count("embed-a") == 2


# ------------------------------------------------------------------ misses and bypasses


async def test_another_users_identical_request_and_a_changed_temperature_are_misses(gw: Gateway) -> None:
    assert (await gw.chat(temperature=0.2)).headers["x-gatewayz-cache"] == "miss"
    assert (await gw.chat(temperature=0.2)).headers["x-gatewayz-cache"] == "hit"
    changed = await gw.chat(temperature=0.9)
    assert changed.headers["x-gatewayz-cache"] == "miss"
    other_id, other_key = await gw.r.user(unique_name("other") + "@example.com", credits=1)
    theirs = await gw.chat(key=other_key, temperature=0.2)
    assert theirs.headers["x-gatewayz-cache"] == "miss" and theirs.json()["usage"]["cost"] > 0
    assert gw.fake.count("chat-a") == 3
    assert [r["metadata"] for r in await gw.rows(other_id)] == [{"butter_cache_hit": False}]


@pytest.mark.parametrize("header", [{"X-Gatewayz-Cache": "bypass"}, {"Cache-Control": "no-cache"}])
async def test_a_bypass_header_skips_the_cache_both_ways(gw: Gateway, header: dict[str, str]) -> None:
    bypassed = await gw.chat(headers=header)
    assert bypassed.status_code == 200 and bypassed.headers["x-gatewayz-cache"] == "bypass"
    assert (await gw.chat()).headers["x-gatewayz-cache"] == "miss"  # the bypassed answer was not stored
    assert (await gw.chat(headers=header)).headers["x-gatewayz-cache"] == "bypass"  # nor is a stored one served
    assert gw.fake.count("chat-a") == 3
    rows = await gw.rows()
    assert [r["metadata"] for r in rows] == [None, {"butter_cache_hit": False}, None]
    assert all(Decimal(r["cost_usd"]) == COST for r in rows)


async def test_a_user_who_turned_the_cache_off_in_the_profile_is_not_served_from_it(gw: Gateway) -> None:
    assert (await gw.chat()).headers["x-gatewayz-cache"] == "miss"
    off = await gw.r.client.put("/user/profile", headers=bearer(gw.key),
                                json={"preferences": {"enable_butter_cache": False}})
    assert off.status_code == 200, off.text
    assert (await gw.chat()).headers["x-gatewayz-cache"] == "bypass"
    assert gw.fake.count("chat-a") == 2
    on = await gw.r.client.put("/user/profile", headers=bearer(gw.key),
                               json={"preferences": {"enable_butter_cache": True}})
    assert on.status_code == 200
    assert (await gw.chat()).headers["x-gatewayz-cache"] == "hit"


async def test_anonymous_requests_are_never_cached(gw: Gateway) -> None:
    for _ in range(2):
        resp = await gw.r.client.post("/v1/chat/completions", json={"model": "acme/chat", "messages": MESSAGES})
        assert resp.status_code == 200, resp.text
        assert resp.headers["x-gatewayz-cache"] == "bypass"
    assert gw.fake.count("chat-a") == 2


async def test_a_stream_cut_by_the_provider_is_never_stored(gw: Gateway) -> None:
    gw.fake.script("chat-a", Script(drop_after_chunks=2, times=1))
    cut = await gw.chat(stream=True)
    assert cut.status_code == 200 and '"error"' in cut.text
    resp = await gw.chat()
    assert resp.headers["x-gatewayz-cache"] == "miss" and resp.json()["choices"][0]["message"]["content"] == REPLY
    assert gw.fake.count("chat-a") == 2


async def test_a_stream_the_client_abandons_is_never_stored(gw: Gateway) -> None:
    pipeline = await gw.r.service("chat_completion")
    body = {"model": "acme/chat", "messages": MESSAGES, "stream": True}
    caller = Caller(user_id=gw.user_id, api_key_id=None)
    reply = await pipeline(InferenceRequest(operation=Operation.CHAT, model="acme/chat", body=body, stream=True),
                           caller)
    assert reply.cache == "miss"
    first = await anext(reply.chunks)
    assert first.data["choices"]
    await reply.chunks.aclose()  # the client went away after the first chunk
    again = await pipeline(InferenceRequest(operation=Operation.CHAT, model="acme/chat", body=dict(body)), caller)
    assert again.cache == "miss"
    await again.finish()
    third = await pipeline(InferenceRequest(operation=Operation.CHAT, model="acme/chat", body=dict(body)), caller)
    assert third.cache == "hit"  # the completed answer after it was kept
    await third.finish()
    assert gw.fake.count("chat-a") == 2


async def test_a_failed_request_is_not_stored(gw: Gateway) -> None:
    for native in ("chat-a", "chat-b", "chat-c"):
        gw.fake.script(native, Script(status=500, times=1))
    assert (await gw.chat()).status_code == 502
    assert (await gw.chat()).headers["x-gatewayz-cache"] == "miss"


# ------------------------------------------------------------------ the system switch


@pytest.fixture
async def off(request: pytest.FixtureRequest) -> AsyncIterator[Gateway]:
    async for g in start(request, "sqlite"):
        yield g


async def test_with_the_switch_off_nothing_is_cached_and_rows_carry_no_cache_metadata(off: Gateway) -> None:
    for _ in range(2):
        resp = await off.chat()
        assert resp.status_code == 200 and resp.headers["x-gatewayz-cache"] == "disabled"
        assert "cache_savings_usd" not in resp.json()["gateway_usage"]
    assert off.fake.count("chat-a") == 2
    assert [r["metadata"] for r in await off.rows()] == [None, None]
    assert await off.r.service("response_caching") is None


async def test_the_seed_alias_turns_the_cache_on(request: pytest.FixtureRequest) -> None:
    async for g in start(request, "sqlite", BUTTER_DEV_ENABLED="true"):
        assert (await g.chat()).headers["x-gatewayz-cache"] == "miss"
        assert (await g.chat()).headers["x-gatewayz-cache"] == "hit"


async def test_a_hit_still_counts_against_the_request_rate_limit(request: pytest.FixtureRequest) -> None:
    async for g in start(request, "sqlite", RESPONSE_CACHE_ENABLED="true", RATE_LIMIT_REQUESTS_PER_MINUTE=2):
        assert (await g.chat()).status_code == 200
        assert (await g.chat()).headers["x-gatewayz-cache"] == "hit"
        assert (await g.chat()).status_code == 429
        assert json.loads((await g.chat()).text)["error"]
