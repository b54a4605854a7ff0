"""End to end: `gatewayz serve` as a process on a fresh PostgreSQL database and Redis, the fake upstream
as a process, driven by the official `openai` and `anthropic` SDKs (and plain HTTP for the AI SDK
routes). Two server processes sharing Redis show that breaker state is global."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.e2e.stack import Stack, start_gateway, wait_healthy
from tests.integration.inference_kit import (
    MESSAGES,
    PROMPT_TOKENS,
    REPLY,
    REPLY_TOKENS,
    sse_json,
)

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
WEATHER_CALL = [{"name": "get_weather", "arguments": '{"city":"Paris"}'}]



@pytest.fixture(autouse=True)
def clean(stack: Stack) -> None:
    """Every test starts from an unscripted fake and closed breakers."""
    httpx.post(stack.fake + "/_fake/reset", timeout=5).raise_for_status()
    reset = httpx.post(stack.gateway + "/circuit-breakers/reset-all", timeout=5,
                       headers={"Authorization": f"Bearer {stack.admin_key}"})
    assert reset.status_code == 200, reset.text


# ------------------------------------------------------------------ openai SDK


def test_openai_chat_returns_the_reply_under_the_canonical_model(stack: Stack) -> None:
    raw = stack.openai().chat.completions.with_raw_response.create(model="acme/chat", messages=MESSAGES)
    assert raw.headers["x-gatewayz-provider"] == "alpha" and raw.headers["x-gatewayz-model"] == "acme/chat"
    assert raw.headers["x-request-id"]
    reply = raw.parse()
    assert reply.model == "acme/chat" and reply.object == "chat.completion"
    assert reply.choices[0].message.content == REPLY and reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None and reply.usage.prompt_tokens == PROMPT_TOKENS
    assert reply.usage.completion_tokens == REPLY_TOKENS


def test_openai_stream_with_include_usage_ends_with_the_usage(stack: Stack) -> None:
    chunks = list(stack.openai().chat.completions.create(
        model="acme/chat", messages=MESSAGES, stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == REPLY
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (PROMPT_TOKENS, REPLY_TOKENS)
    assert all(c.usage is None for c in chunks[:-1])

    plain = list(stack.openai().chat.completions.create(model="acme/chat", messages=MESSAGES, stream=True))
    assert all(c.usage is None for c in plain) and "".join(
        c.choices[0].delta.content or "" for c in plain if c.choices) == REPLY


def test_openai_tool_calls_are_parsed_by_the_sdk_plain_and_streamed(stack: Stack) -> None:
    stack.script("chat-a", tool_calls=WEATHER_CALL)
    client = stack.openai()
    reply = client.chat.completions.create(model="acme/chat", messages=MESSAGES, tools=[WEATHER_TOOL],
                                           tool_choice="auto")
    [call] = reply.choices[0].message.tool_calls or []
    assert reply.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}
    sent = stack.upstream_requests()[-1]["json"]
    assert sent["tools"] == [WEATHER_TOOL] and sent["tool_choice"] == "auto"

    arguments, names = "", []
    for chunk in client.chat.completions.create(model="acme/chat", messages=MESSAGES, tools=[WEATHER_TOOL],
                                                stream=True):
        for delta_call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            if delta_call.function and delta_call.function.name:
                names.append(delta_call.function.name)
            arguments += (delta_call.function.arguments or "") if delta_call.function else ""
    assert names == ["get_weather"] and json.loads(arguments) == {"city": "Paris"}


def test_response_format_and_multimodal_parts_pass_through(stack: Stack) -> None:
    schema = {"type": "json_schema", "json_schema": {"name": "answer", "strict": True, "schema": {
        "type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}}}
    parts = [{"type": "text", "text": "What is in this image?"},
             {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}}]
    reply = stack.openai().chat.completions.create(
        model="acme/chat", messages=[{"role": "user", "content": parts}], response_format=schema,
        extra_body={"vendor_flag": True})
    assert reply.choices[0].message.content == REPLY
    sent = stack.upstream_requests()[-1]["json"]
    assert sent["response_format"] == schema and sent["messages"] == [{"role": "user", "content": parts}]
    assert sent["vendor_flag"] is True and sent["model"] == "chat-a"


def test_failover_happens_behind_the_sdk(stack: Stack) -> None:
    stack.script("chat-a", status=503)
    raw = stack.openai().chat.completions.with_raw_response.create(model="acme/chat", messages=MESSAGES)
    assert raw.headers["x-gatewayz-provider"] == "beta" and raw.parse().choices[0].message.content == REPLY
    assert stack.count("chat-a") == 1 and stack.count("chat-b") == 1


def test_openai_errors_map_to_the_sdk_exception_types(stack: Stack) -> None:
    client = stack.openai()
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="acme/chatt", messages=MESSAGES)
    assert missing.value.code == "model_not_found" and "acme/chat" in str(missing.value)
    with pytest.raises(openai.AuthenticationError):
        stack.openai(key="gw_live_" + "x" * 43).chat.completions.create(model="acme/chat", messages=MESSAGES)
    with pytest.raises(openai.UnprocessableEntityError) as invalid:
        client.chat.completions.create(model="acme/chat", messages=MESSAGES, temperature=3)
    assert invalid.value.param == "temperature"
    assert stack.upstream_requests() == []

    stack.script("duo-a", status=429, retry_after="3")
    stack.script("duo-b", status=429, retry_after="3")
    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model="acme/duo", messages=MESSAGES)
    assert limited.value.response.headers["retry-after"] == "3"
    assert limited.value.response.headers["x-ratelimit-scope"] == "upstream"

    stack.script("duo-a", status=500)
    stack.script("duo-b", status=502)
    with pytest.raises(openai.InternalServerError) as failed:
        client.chat.completions.create(model="acme/duo", messages=MESSAGES)
    assert failed.value.status_code == 502 and "All providers failed" in str(failed.value)


def test_legacy_completions_and_embeddings_through_the_sdk(stack: Stack) -> None:
    client = stack.openai()
    completion = client.completions.create(model="acme/chat", prompt="Say hello please")
    assert completion.choices[0].text == REPLY and completion.model == "acme/chat"
    embedded = client.embeddings.create(model="acme/embed", input=["one", "two"])  # base64 on the wire
    assert [len(d.embedding) for d in embedded.data] == [8, 8]
    assert stack.upstream_requests()[-1]["json"]["encoding_format"] == "base64"


# ------------------------------------------------------------------ anthropic SDK


def ask(**extra: Any) -> dict[str, Any]:
    return {"max_tokens": 200, "system": "Be brief", "messages": [{"role": "user", "content": "Say hello please"}],
            **extra}


@pytest.mark.parametrize(("model", "provider"), [("acme/claude", "claude"), ("acme/chat", "alpha")])
def test_anthropic_messages_plain_and_streamed(stack: Stack, model: str, provider: str) -> None:
    client = stack.anthropic()
    raw = client.messages.with_raw_response.create(model=model, **ask())
    assert raw.headers["x-gatewayz-provider"] == provider
    message = raw.parse()
    assert message.model == model and message.role == "assistant" and message.stop_reason == "end_turn"
    assert [b.type for b in message.content] == ["text"] and message.content[0].text == REPLY  # type: ignore[union-attr]
    assert message.usage.output_tokens == REPLY_TOKENS

    with client.messages.stream(model=model, **ask()) as stream:
        streamed_text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert streamed_text == REPLY and final.content[0].text == REPLY  # type: ignore[union-attr]
    assert final.stop_reason == "end_turn" and final.usage.output_tokens == REPLY_TOKENS
    paths = [r["path"] for r in stack.upstream_requests()]
    assert paths == ["/v1/messages" if provider == "claude" else "/v1/chat/completions"] * 2


@pytest.mark.parametrize(("model", "native"), [("acme/claude", "claude-c"), ("acme/chat", "chat-a")])
def test_anthropic_tool_use_plain_and_streamed(stack: Stack, model: str, native: str) -> None:
    stack.script(native, tool_calls=WEATHER_CALL)
    tool = {"name": "get_weather", "description": "Weather in a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
    client = stack.anthropic()
    message = client.messages.create(model=model, tools=[tool], **ask())
    assert message.stop_reason == "tool_use"
    [block] = message.content
    assert block.type == "tool_use" and block.name == "get_weather" and block.input == {"city": "Paris"}

    with client.messages.stream(model=model, tools=[tool], **ask()) as stream:
        final = stream.get_final_message()
    [block] = final.content
    assert block.type == "tool_use" and block.input == {"city": "Paris"} and final.stop_reason == "tool_use"
    sent = stack.upstream_requests()[-1]["json"]
    if native == "claude-c":
        assert sent["tools"] == [tool]  # the native provider gets the client's own body
    else:
        assert sent["tools"][0]["function"]["name"] == "get_weather"  # translated for an OpenAI provider
        assert sent["tools"][0]["function"]["parameters"] == tool["input_schema"]


def test_anthropic_errors_map_to_the_sdk_exception_types(stack: Stack) -> None:
    client = stack.anthropic()
    with pytest.raises(anthropic.NotFoundError):
        client.messages.create(model="acme/none", **ask())
    with pytest.raises(anthropic.AuthenticationError):
        stack.anthropic(key="gw_live_" + "x" * 43).messages.create(model="acme/claude", **ask())
    with pytest.raises(anthropic.UnprocessableEntityError):
        client.messages.create(model="acme/claude", **ask(max_tokens=0))
    stack.script("claude-c", status=429, retry_after="2")
    stack.script("claude-a", status=429, retry_after="2")
    with pytest.raises(anthropic.RateLimitError) as limited:
        client.messages.create(model="acme/claude", **ask())
    assert limited.value.response.headers["retry-after"] == "2"
    stack.script("claude-c", status=500)
    stack.script("claude-a", status=500)
    with pytest.raises(anthropic.InternalServerError) as failed:
        client.messages.create(model="acme/claude", **ask())
    assert failed.value.status_code == 502
    assert failed.value.body == {"type": "error", "error": {"type": "api_error", "message": "All providers failed"},
                                 "request_id": failed.value.response.headers["x-gatewayz-request-id"]}


# ------------------------------------------------------------------ AI SDK routes


def test_ai_sdk_routes_need_a_key_and_stream_over_the_wire(stack: Stack) -> None:
    body = {"model": "acme/chat", "messages": [{"role": "user", "content": "Say hello please"}]}
    assert httpx.post(stack.gateway + "/api/chat/ai-sdk", json=body, timeout=10).status_code == 401
    auth = {"Authorization": f"Bearer {stack.key}"}
    plain = httpx.post(stack.gateway + "/api/chat/ai-sdk", json=body, headers=auth, timeout=10)
    assert plain.status_code == 200 and plain.json()["choices"][0]["message"]["content"] == REPLY
    with httpx.stream("POST", stack.gateway + "/api/chat/ai-sdk-completions", json={**body, "stream": True},
                      headers=auth, timeout=10) as resp:
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
        text = resp.read().decode()
    frames = sse_json(text)
    assert text.endswith("data: [DONE]\n\n") and frames[-1] == {"choices": [{"finish_reason": "stop"}]}
    assert "".join(f["choices"][0]["delta"]["content"] for f in frames[:-1]) == REPLY


# ------------------------------------------------------------------ breakers across processes


def test_a_breaker_opened_through_one_process_is_open_in_another(stack: Stack) -> None:
    """Process A is the session's gateway; B is a second `gatewayz serve` on the same Redis prefix."""
    b = start_gateway("gateway-b", stack.env, stack.logs)
    try:
        stack.script("chat-a", status=500)
        via_a = stack.openai()
        for _ in range(5):
            raw = via_a.chat.completions.with_raw_response.create(model="acme/chat", messages=MESSAGES)
            assert raw.headers["x-gatewayz-provider"] == "beta"
        assert stack.count("chat-a") == 5
        wait_healthy(b)
        seen = httpx.get(b.url + "/circuit-breakers/alpha", timeout=5).json()
        assert seen["state"] == "open" and seen["failure_count"] == 5
        assert httpx.get(b.url + "/circuit-breakers", timeout=5).json()["open_count"] == 1

        httpx.post(stack.fake + "/_fake/reset", timeout=5).raise_for_status()  # alpha would answer again
        raw = stack.openai(url=b.url).chat.completions.with_raw_response.create(model="acme/chat",
                                                                                 messages=MESSAGES)
        assert raw.headers["x-gatewayz-provider"] == "beta" and raw.parse().choices[0].message.content == REPLY
        assert stack.count("chat-a") == 0 and stack.count("chat-b") == 1

        # An admin reset through B closes it for A too.
        reset = httpx.post(b.url + "/circuit-breakers/alpha/reset", timeout=5,
                           headers={"Authorization": f"Bearer {stack.admin_key}"})
        assert reset.status_code == 200, reset.text
        raw = via_a.chat.completions.with_raw_response.create(model="acme/chat", messages=MESSAGES)
        assert raw.headers["x-gatewayz-provider"] == "alpha"
    finally:
        b.stop()
