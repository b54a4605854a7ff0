"""OpenAI <-> Anthropic translation on the upstream side: requests, answers and stream events."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from adapters.providers.anthropic_kind import AnthropicStream
from adapters.providers.openai_kind import OpenAIStream
from adapters.providers.profiles import DEFAULT
from adapters.providers.sse import Event
from adapters.providers.target import Target
from adapters.providers.translate import from_messages_response, to_messages_request
from adapters.providers.upstream import is_preamble
from domain.inference import Chunk, Usage
from domain.upstream import UpstreamError

PNG = "data:image/png;base64,iVBORw0KGgo="
CALL = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather", "description": "Weather now",
                                                 "parameters": {"type": "object", "properties": {"city": {}}}}}


def target() -> Target:
    return Target(slug="p", base="https://api.example.com/v1", key="sk-secret-key-123456", headers={},
                  profile=DEFAULT)


def translate(**body: Any) -> dict[str, Any]:
    return to_messages_request(body, "claude-x")


# ---------------------------------------------------------------- requests


def test_system_and_developer_messages_become_the_system_prompt() -> None:
    out = translate(messages=[{"role": "system", "content": "Be brief"},
                              {"role": "developer", "content": [{"type": "text", "text": "Use French"}]},
                              {"role": "user", "content": "Hi"}])
    assert out["system"] == "Be brief\n\nUse French"
    assert out["messages"] == [{"role": "user", "content": "Hi"}]
    assert out["model"] == "claude-x" and out["max_tokens"] == 4096 and "stream" not in out


def test_max_tokens_comes_from_the_request_then_the_body() -> None:
    assert to_messages_request({"messages": []}, "m", max_tokens=50)["max_tokens"] == 50
    assert translate(messages=[], max_completion_tokens=70)["max_tokens"] == 70
    assert to_messages_request({"messages": []}, "m", stream=True)["stream"] is True


def test_sampling_and_stop_parameters_map() -> None:
    out = translate(messages=[], temperature=1.7, top_p=0.9, stop="END", user="u-1")
    assert (out["temperature"], out["top_p"], out["stop_sequences"]) == (1.0, 0.9, ["END"])
    assert out["metadata"] == {"user_id": "u-1"}
    assert translate(messages=[], stop=["a", "b"])["stop_sequences"] == ["a", "b"]


def test_images_become_base64_or_url_blocks() -> None:
    out = translate(messages=[{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": PNG, "detail": "high"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
    ]}])
    assert out["messages"][0]["content"] == [
        {"type": "text", "text": "What is this?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
    ]


def test_tool_calls_and_results_become_tool_use_and_tool_result_blocks() -> None:
    second = {**CALL, "id": "call_2"}
    out = translate(messages=[
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {"role": "assistant", "content": None, "tool_calls": [CALL, second]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "rainy"}]},
        {"role": "user", "content": "Thanks"},
    ])
    assistant, results = out["messages"][1], out["messages"][2]
    assert assistant == {"role": "assistant", "content": [
        {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "call_2", "name": "get_weather", "input": {"city": "Paris"}},
    ]}
    assert results == {"role": "user", "content": [  # consecutive user turns merge: roles must alternate
        {"type": "tool_result", "tool_use_id": "call_1", "content": "sunny"},
        {"type": "tool_result", "tool_use_id": "call_2", "content": [{"type": "text", "text": "rainy"}]},
        {"type": "text", "text": "Thanks"},
    ]}
    assert len(out["messages"]) == 3


def test_tools_get_an_input_schema() -> None:
    out = translate(messages=[], tools=[WEATHER_TOOL, {"type": "function", "function": {"name": "now"}}])
    assert out["tools"] == [
        {"name": "get_weather", "description": "Weather now",
         "input_schema": {"type": "object", "properties": {"city": {}}}},
        {"name": "now", "input_schema": {"type": "object", "properties": {}}},
    ]


@pytest.mark.parametrize(("choice", "parallel", "expected"), [
    ("auto", None, {"type": "auto"}),
    ("required", None, {"type": "any"}),
    ("none", None, {"type": "none"}),
    ({"type": "function", "function": {"name": "get_weather"}}, None, {"type": "tool", "name": "get_weather"}),
    (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
    (None, None, None),
])
def test_tool_choice_maps(choice: Any, parallel: Any, expected: dict[str, Any] | None) -> None:
    out = translate(messages=[], tools=[WEATHER_TOOL], tool_choice=choice, parallel_tool_calls=parallel)
    assert out.get("tool_choice") == expected


# ---------------------------------------------------------------- answers


def test_an_answer_becomes_a_chat_completion() -> None:
    body = from_messages_response({
        "id": "msg_1", "type": "message", "model": "claude-x", "stop_reason": "max_tokens",
        "content": [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}],
        "usage": {"input_tokens": 10, "cache_read_input_tokens": 5, "output_tokens": 3},
    })
    assert body["object"] == "chat.completion" and body["model"] == "claude-x"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Hello"}
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"] == {"prompt_tokens": 15, "completion_tokens": 3, "total_tokens": 18}


def test_tool_use_becomes_tool_calls_with_json_string_arguments() -> None:
    body = from_messages_response({"id": "msg_1", "model": "m", "stop_reason": "tool_use", "content": [
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]})
    reply = body["choices"][0]
    assert reply["finish_reason"] == "tool_calls" and reply["message"]["content"] is None
    call = reply["message"]["tool_calls"][0]
    assert (call["id"], call["function"]["name"]) == ("toolu_1", "get_weather")
    assert msgspec.json.decode(call["function"]["arguments"]) == {"city": "Paris"}
    assert "usage" not in body


@pytest.mark.parametrize(("stop", "finish"), [("end_turn", "stop"), ("stop_sequence", "stop"),
                                              ("max_tokens", "length"), ("tool_use", "tool_calls")])
def test_stop_reasons_map_to_finish_reasons(stop: str, finish: str) -> None:
    assert from_messages_response({"stop_reason": stop, "content": []})["choices"][0]["finish_reason"] == finish


# ---------------------------------------------------------------- streams


def events(*pairs: tuple[str, dict[str, Any]]) -> list[Event]:
    return [Event(name.encode(), msgspec.json.encode(data)) for name, data in pairs]


def run(state: AnthropicStream | OpenAIStream, evs: list[Event]) -> list[Chunk]:
    return [c for c in map(state.on_event, evs) if c is not None]


TOOL_STREAM = events(
    ("message_start", {"type": "message_start", "message": {"id": "msg_1", "model": "claude-x",
                                                          "usage": {"input_tokens": 9, "output_tokens": 1}}}),
    ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    ("ping", {"type": "ping"}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    ("content_block_start", {"type": "content_block_start", "index": 1,
                             "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 1,
                             "delta": {"type": "input_json_delta", "partial_json": '{"a":'}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 1,
                             "delta": {"type": "input_json_delta", "partial_json": "1}"}}),
    ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 7}}),
    ("message_stop", {"type": "message_stop"}),
)


def test_anthropic_events_become_openai_chunks_with_usage_last() -> None:
    state = AnthropicStream(target())
    chunks = run(state, TOOL_STREAM)
    deltas = [c.data["choices"][0]["delta"] for c in chunks[:-1]]
    assert deltas == [
        {"role": "assistant", "content": ""},
        {"content": "Hi"},
        {"tool_calls": [{"index": 0, "id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": ""}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": '{"a":'}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]},
        {},
    ]
    assert chunks[-2].data["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1].data["choices"] == [] and chunks[-1].usage == Usage(prompt_tokens=9, completion_tokens=7)
    assert all(c.data["id"] == "msg_1" and c.data["object"] == "chat.completion.chunk" for c in chunks)
    assert [c.text for c in chunks if c.text] == ["Hi", '{"a":', "1}"] and state.done


def test_an_anthropic_error_event_raises_a_sanitised_upstream_error() -> None:
    state = AnthropicStream(target())
    run(state, TOOL_STREAM[:4])
    with pytest.raises(UpstreamError) as caught:
        run(state, events(("error", {"type": "error", "error": {
            "type": "overloaded_error", "message": "Overloaded (key sk-secret-key-123456)"}})))
    assert caught.value.status == 529 and caught.value.provider == "p" and caught.value.fails_over
    assert "sk-secret" not in caught.value.message and "Overloaded" in caught.value.message


def test_a_stream_that_ends_before_its_stop_reason_is_broken() -> None:
    state = AnthropicStream(target())
    run(state, TOOL_STREAM[:4])
    with pytest.raises(UpstreamError):
        state.close()
    finished = AnthropicStream(target())
    run(finished, TOOL_STREAM[:-1])  # no message_stop, but the stop reason came: usage still delivered
    tail = finished.close()
    assert tail is not None and tail.usage == Usage(prompt_tokens=9, completion_tokens=7)


def test_openai_frames_keep_their_raw_bytes_and_done_ends_them() -> None:
    state = OpenAIStream(target())
    frame = b'{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}'
    usage = b'{"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":1,"total_tokens":5}}'
    chunks = run(state, [Event(b"", frame), Event(b"", usage), Event(b"", b"[DONE]")])
    assert chunks[0].raw == frame and chunks[0].text == "Hi"
    assert chunks[1].usage == Usage(prompt_tokens=4, completion_tokens=1) and state.done


def test_an_openai_error_frame_raises_with_its_status() -> None:
    state = OpenAIStream(target())
    with pytest.raises(UpstreamError) as caught:
        state.on_event(Event(b"", b'{"error":{"message":"Rate limited","code":429}}'))
    assert caught.value.status == 429 and caught.value.message == "Rate limited"
    with pytest.raises(UpstreamError):
        OpenAIStream(target()).close()  # ended with neither [DONE] nor a finish_reason


def test_only_role_chunks_are_preamble() -> None:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> Chunk:
        return Chunk(data={"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    assert is_preamble(chunk({"role": "assistant", "content": ""}))
    assert is_preamble(chunk({"role": "assistant", "content": None, "refusal": None}))
    assert not is_preamble(chunk({"reasoning_content": "thinking"}))
    assert not is_preamble(chunk({"tool_calls": [{"index": 0}]}))
    assert not is_preamble(chunk({}, "stop"))
    assert not is_preamble(Chunk(data={"choices": []}, usage=Usage()))
