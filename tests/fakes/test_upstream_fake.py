"""The fake upstream must be faithful: the official SDKs parse everything it sends."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import anthropic
import openai
import pytest

from tests.fakes.upstream import FakeUpstream, Script

pytestmark = pytest.mark.asyncio

ROOT = Path(__file__).resolve().parents[2]
MSGS = [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Say hello please"}]
PROMPT_TOKENS = (2 + 3) + (3 + 3)
OAI = {"Authorization": "Bearer x"}
ANT = {"x-api-key": "x", "anthropic-version": "2023-06-01"}
WEATHER = [{"name": "get_weather", "arguments": '{"city":"Paris"}'}]


@pytest.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream() as f:
        yield f


@pytest.fixture
async def oai(fake: FakeUpstream) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=fake.url + "/v1", api_key="x", max_retries=0) as client:
        yield client  # closed before the fake stops: no connection is left open


@pytest.fixture
async def ant(fake: FakeUpstream) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(base_url=fake.url, api_key="x", max_retries=0) as client:
        yield client


# ---------------------------------------------------------------- OpenAI


async def test_chat_non_stream(fake: FakeUpstream, oai: openai.AsyncOpenAI) -> None:
    r = await oai.chat.completions.create(model="gpt-4o", messages=MSGS)
    assert r.id.startswith("chatcmpl-") and r.object == "chat.completion" and r.model == "gpt-4o"
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].message.content == "Hello from the fake upstream."
    assert r.choices[0].finish_reason == "stop"
    assert r.usage is not None
    assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (
        PROMPT_TOKENS,
        5,
        PROMPT_TOKENS + 5,
    )
    rec = fake.requests[0]
    assert rec.path == "/v1/chat/completions" and rec.headers["authorization"] == "Bearer x"
    assert rec.json["messages"] == MSGS and fake.count("gpt-4o") == 1 and fake.count("other") == 0


async def test_chat_stream_include_usage(fake: FakeUpstream, oai: openai.AsyncOpenAI) -> None:
    stream = await oai.chat.completions.create(
        model="gpt-4o", messages=MSGS, stream=True, stream_options={"include_usage": True}
    )
    chunks = [c async for c in stream]
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert pieces == ["Hello", " from", " the", " fake", " upstream."]
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == len(pieces)
    assert chunks[-1].usage.prompt_tokens == PROMPT_TOKENS


async def test_stream_without_include_usage_has_no_usage(fake: FakeUpstream, oai: openai.AsyncOpenAI) -> None:
    stream = await oai.chat.completions.create(model="m", messages=MSGS, stream=True)
    assert all(c.usage is None and c.choices for c in [c async for c in stream])


async def test_stream_chunks_and_max_tokens(fake: FakeUpstream, oai: openai.AsyncOpenAI) -> None:
    fake.script("m", Script(content="a b c d e f", stream_chunks=3))
    r = await oai.chat.completions.create(model="m", messages=MSGS)
    assert r.choices[0].message.content == "a b c d e f" and r.usage and r.usage.completion_tokens == 6
    stream = await oai.chat.completions.create(model="m", messages=MSGS, stream=True)
    assert [c.choices[0].delta.content async for c in stream if c.choices[0].delta.content] == [
        "a b",
        " c d",
        " e f",
    ]
    fake.script("big", Script(stream_chunks=64))  # short content is cycled to reach 64 chunks
    stream = await oai.chat.completions.create(model="big", messages=MSGS, stream=True)
    assert len([c async for c in stream if c.choices[0].delta.content]) == 64
    r = await oai.chat.completions.create(model="gpt", messages=MSGS, max_tokens=2)
    assert r.choices[0].message.content == "Hello from" and r.choices[0].finish_reason == "length"
    assert r.usage and r.usage.completion_tokens == 2


async def test_tool_calls(fake: FakeUpstream, oai: openai.AsyncOpenAI) -> None:
    fake.script("gpt-4o", Script(tool_calls=WEATHER))
    r = await oai.chat.completions.create(model="gpt-4o", messages=MSGS)
    msg = r.choices[0].message
    assert r.choices[0].finish_reason == "tool_calls" and msg.content is None and msg.tool_calls
    call = msg.tool_calls[0]
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}

    stream = await oai.chat.completions.create(model="gpt-4o", messages=MSGS, stream=True)
    calls: dict[int, dict[str, str]] = {}
    finish = None
    async for c in stream:
        for tc in c.choices[0].delta.tool_calls or []:
            acc = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
            acc["id"] += tc.id or ""
            if tc.function:
                acc["name"] += tc.function.name or ""
                acc["arguments"] += tc.function.arguments or ""
        finish = c.choices[0].finish_reason or finish
    assert finish == "tool_calls" and calls[0]["name"] == "get_weather" and calls[0]["id"].startswith("call_")
    assert json.loads(calls[0]["arguments"]) == {"city": "Paris"}


async def test_legacy_completions(fake: FakeUpstream, oai: openai.AsyncOpenAI) -> None:
    r = await oai.completions.create(model="davinci", prompt="one two three")
    assert r.object == "text_completion" and r.choices[0].text == "Hello from the fake upstream."
    assert r.usage and (r.usage.prompt_tokens, r.usage.completion_tokens) == (3, 5)
    stream = await oai.completions.create(
        model="davinci", prompt="x", stream=True, stream_options={"include_usage": True}
    )
    chunks = [c async for c in stream]
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "Hello from the fake upstream."
    assert chunks[-1].usage and chunks[-1].usage.completion_tokens == 5


async def test_embeddings(fake: FakeUpstream, oai: openai.AsyncOpenAI) -> None:
    a = await oai.embeddings.create(model="emb", input=["hello world", "bye"])  # SDK asks base64
    b = await oai.embeddings.create(model="emb", input="hello world", encoding_format="float")
    assert len(a.data) == 2 and len(a.data[0].embedding) == 8
    assert a.data[0].embedding == pytest.approx(b.data[0].embedding, abs=1e-6)
    assert a.data[0].embedding != a.data[1].embedding
    assert a.usage.prompt_tokens == 3 and b.usage.total_tokens == 2


@pytest.mark.parametrize(
    ("status", "exc"),
    [
        (400, openai.BadRequestError),
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
    ],
)
async def test_openai_errors(fake: FakeUpstream, oai: openai.AsyncOpenAI, status: int, exc: type) -> None:
    fake.script("gpt-4o", Script(status=status, error_message="boom", retry_after="7"))
    with pytest.raises(exc) as info:
        await oai.chat.completions.create(model="gpt-4o", messages=MSGS)
    assert info.value.status_code == status and info.value.response.headers["retry-after"] == "7"
    assert info.value.body["message"] == "boom"  # type: ignore[index]


async def test_openai_requires_bearer(fake: FakeUpstream) -> None:
    async with aiohttp.ClientSession() as s:
        async with s.post(fake.url + "/chat/completions", json={"model": "m", "messages": MSGS}) as r:
            assert r.status == 401
            err = (await r.json())["error"]
            assert set(err) == {"message", "type", "param", "code"}
        async with s.post(
            fake.url + "/chat/completions", json={"model": "m", "messages": MSGS}, headers=OAI
        ) as r:
            assert r.status == 200  # no /v1 prefix works too


async def test_times_then_fallback(fake: FakeUpstream, oai: openai.AsyncOpenAI) -> None:
    fake.script("*", Script(content="star default"))
    fake.script("gpt-4o", Script(status=429, times=2))
    for _ in range(2):
        with pytest.raises(openai.RateLimitError):
            await oai.chat.completions.create(model="gpt-4o", messages=MSGS)
    r = await oai.chat.completions.create(model="gpt-4o", messages=MSGS)
    assert r.choices[0].message.content == "star default" and fake.count("gpt-4o") == 3
    fake.reset()
    assert fake.requests == [] and fake.count() == 0


async def test_omit_usage_and_overrides(fake: FakeUpstream, oai: openai.AsyncOpenAI) -> None:
    fake.script("a", Script(omit_usage=True))
    fake.script("b", Script(prompt_tokens=100, completion_tokens=7))
    r = await oai.chat.completions.create(model="a", messages=MSGS)
    assert r.usage is None
    stream = await oai.chat.completions.create(
        model="a", messages=MSGS, stream=True, stream_options={"include_usage": True}
    )
    assert all(c.usage is None for c in [c async for c in stream])
    r = await oai.chat.completions.create(model="b", messages=MSGS)
    assert r.usage and (r.usage.prompt_tokens, r.usage.completion_tokens) == (100, 7)


async def test_models_list(fake: FakeUpstream, oai: openai.AsyncOpenAI) -> None:
    fake.script("gpt-4o", Script())
    fake.script("claude-x", Script())
    assert [m.id async for m in oai.models.list()] == ["gpt-4o", "claude-x"]


async def test_delay_and_pacing(fake: FakeUpstream, oai: openai.AsyncOpenAI) -> None:
    fake.script("slow", Script(delay_s=0.1, chunk_delay_s=0.05))
    t0 = time.perf_counter()
    stream = await oai.chat.completions.create(model="slow", messages=MSGS, stream=True)
    t_headers = time.perf_counter() - t0
    _ = [c async for c in stream]
    assert t_headers >= 0.09 and time.perf_counter() - t0 >= 0.09 + 4 * 0.045


# ---------------------------------------------------------------- Anthropic


async def test_messages_non_stream(fake: FakeUpstream, ant: anthropic.AsyncAnthropic) -> None:
    m = await ant.messages.create(
        model="claude-3-5",
        max_tokens=100,
        system="Be brief",
        messages=[{"role": "user", "content": "Say hello please"}],
    )
    assert (
        m.id.startswith("msg_") and m.type == "message" and m.role == "assistant" and m.model == "claude-3-5"
    )
    assert m.content[0].type == "text" and m.content[0].text == "Hello from the fake upstream."
    assert m.stop_reason == "end_turn" and m.stop_sequence is None
    assert (m.usage.input_tokens, m.usage.output_tokens) == (2 + 3 + 3, 5)
    rec = fake.requests[0]  # the installed SDK sends api_key as a Bearer token, not x-api-key
    assert rec.path == "/v1/messages" and "anthropic-version" in rec.headers
    assert rec.headers.get("x-api-key") == "x" or rec.headers.get("authorization") == "Bearer x"


async def test_messages_max_tokens_and_tool_use(fake: FakeUpstream, ant: anthropic.AsyncAnthropic) -> None:
    m = await ant.messages.create(model="c", max_tokens=3, messages=[{"role": "user", "content": "hi"}])
    assert (
        m.stop_reason == "max_tokens" and m.content[0].text == "Hello from the" and m.usage.output_tokens == 3
    )
    fake.script("c", Script(tool_calls=WEATHER))
    m = await ant.messages.create(model="c", max_tokens=100, messages=[{"role": "user", "content": "hi"}])
    block = m.content[0]
    assert m.stop_reason == "tool_use" and block.type == "tool_use" and block.id.startswith("toolu_")
    assert block.name == "get_weather" and block.input == {"city": "Paris"}


async def test_messages_stream(fake: FakeUpstream, ant: anthropic.AsyncAnthropic) -> None:
    async with ant.messages.stream(
        model="claude", max_tokens=100, messages=[{"role": "user", "content": "hi there"}]
    ) as s:
        texts = [t async for t in s.text_stream]
        final = await s.get_final_message()
    assert texts == ["Hello", " from", " the", " fake", " upstream."]
    assert final.content[0].text == "Hello from the fake upstream." and final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (5, 5)


async def test_messages_stream_event_sequence(fake: FakeUpstream) -> None:
    body = {"model": "c", "max_tokens": 10, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    async with aiohttp.ClientSession() as s, s.post(fake.url + "/v1/messages", json=body, headers=ANT) as r:
        assert r.headers["Content-Type"].startswith("text/event-stream")
        events = [ln[7:] for ln in (await r.text()).splitlines() if ln.startswith("event: ")]
    assert events == ["message_start", "content_block_start", "ping"] + ["content_block_delta"] * 5 + [
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]


async def test_messages_stream_tool_use(fake: FakeUpstream, ant: anthropic.AsyncAnthropic) -> None:
    fake.script("c", Script(tool_calls=WEATHER))
    async with ant.messages.stream(
        model="c", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
    ) as s:
        final = await s.get_final_message()
    assert final.stop_reason == "tool_use" and final.content[0].type == "tool_use"
    assert final.content[0].input == {"city": "Paris"}


@pytest.mark.parametrize(
    ("status", "exc", "etype"),
    [
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (529, anthropic.OverloadedError, "overloaded_error"),
        (400, anthropic.BadRequestError, "invalid_request_error"),
    ],
)
async def test_anthropic_errors(
    fake: FakeUpstream, ant: anthropic.AsyncAnthropic, status: int, exc: type, etype: str
) -> None:
    fake.script("c", Script(status=status, error_message="nope", retry_after="3"))
    with pytest.raises(exc) as info:
        await ant.messages.create(model="c", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == status and info.value.response.headers["retry-after"] == "3"
    assert info.value.body == {"type": "error", "error": {"type": etype, "message": "nope"}}


async def test_anthropic_requires_key_and_version(fake: FakeUpstream) -> None:
    body = {"model": "c", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    async with aiohttp.ClientSession() as s:
        for headers in ({"x-api-key": "x"}, {"anthropic-version": "2023-06-01"}, {**OAI}):
            async with s.post(fake.url + "/v1/messages", json=body, headers=headers) as r:
                assert r.status == 401 and (await r.json())["error"]["type"] == "authentication_error"
        for headers in (ANT, {**OAI, "anthropic-version": "2023-06-01"}):
            async with s.post(fake.url + "/messages", json=body, headers=headers) as r:
                assert r.status == 200
        async with s.post(fake.url + "/v1/messages", json={**body, "max_tokens": None}, headers=ANT) as r:
            assert r.status == 400 and (await r.json())["error"]["type"] == "invalid_request_error"


# ---------------------------------------------------------------- connection drops


async def test_drop_after_chunks_cuts_connection(fake: FakeUpstream) -> None:
    fake.script("m", Script(drop_after_chunks=2))
    body = {"model": "m", "messages": MSGS, "stream": True}
    received = b""
    async with aiohttp.ClientSession() as s:
        with pytest.raises(aiohttp.ClientPayloadError):
            async with s.post(fake.url + "/v1/chat/completions", json=body, headers=OAI) as r:
                assert r.status == 200
                async for data in r.content.iter_any():
                    received += data
    frames = [f for f in received.split(b"\n\n") if f.startswith(b"data: ")]
    assert len(frames) == 3 and b"[DONE]" not in received  # role chunk + 2 content chunks


async def test_drop_with_sdks(
    fake: FakeUpstream, oai: openai.AsyncOpenAI, ant: anthropic.AsyncAnthropic
) -> None:
    fake.script("m", Script(drop_after_chunks=1, chunk_delay_s=0.01))
    stream = await oai.chat.completions.create(model="m", messages=MSGS, stream=True)
    got: list[str] = []
    with pytest.raises(openai.APIConnectionError):
        async for c in stream:
            got.append(c.choices[0].delta.content or "")
    assert "".join(got) == "Hello"
    with pytest.raises(Exception) as info:
        async with ant.messages.stream(
            model="m", max_tokens=10, messages=[{"role": "user", "content": "x"}]
        ) as s:
            await s.get_final_message()
    err = info.value
    assert isinstance(err, anthropic.APIConnectionError) or "ProtocolError" in type(err).__name__
    with pytest.raises(openai.APIConnectionError):  # non-stream: dies before any byte
        await oai.chat.completions.create(model="m", messages=MSGS)


# ---------------------------------------------------------------- remote control and standalone process


async def test_debug_routes(fake: FakeUpstream, oai: openai.AsyncOpenAI) -> None:
    async with aiohttp.ClientSession() as s:
        async with s.post(fake.url + "/_fake/script", json={"model": "m", "status": 503, "times": 1}) as r:
            assert r.status == 200
        with pytest.raises(openai.InternalServerError):
            await oai.chat.completions.create(model="m", messages=MSGS)
        async with s.get(fake.url + "/_fake/requests") as r:
            recs = await r.json()
        assert recs[0]["path"] == "/v1/chat/completions" and recs[0]["json"]["model"] == "m"
        async with s.post(fake.url + "/_fake/reset") as r:
            assert r.status == 200
    assert fake.count() == 0


async def test_standalone_process() -> None:
    env = {**os.environ, "FAKE_UPSTREAM_CONTENT": "alpha beta"}
    args = ["-m", "tests.fakes.upstream", "--port", "0", "--chunks", "8", "--delay-ms", "1"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        url = line.strip().rsplit(" ", 1)[-1]
        async with openai.AsyncOpenAI(base_url=url + "/v1", api_key="x", max_retries=0) as client:
            stream = await client.chat.completions.create(model="any", messages=MSGS, stream=True)
            pieces = [c.choices[0].delta.content async for c in stream if c.choices[0].delta.content]
        assert len(pieces) == 8 and pieces[:3] == ["alpha", " beta", " alpha"]
    finally:
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 10) == 0
