"""The response cache's key and replay rules (domain/response_cache.py)."""

from __future__ import annotations

from decimal import Decimal

from domain.chat_history import StreamedAnswer
from domain.inference import InferenceRequest, Operation, Usage
from domain.response_cache import (
    CachedAnswer,
    cache_key,
    decode_answer,
    encode_answer,
    from_completion,
    replayed_chunks,
    replayed_completion,
    user_enabled,
)

MESSAGES = [{"role": "user", "content": "hi"}]


def req(**body: object) -> InferenceRequest:
    return InferenceRequest(operation=Operation.CHAT, model="alias", body={"messages": MESSAGES, **body})


def test_the_key_ignores_transport_fields_and_key_order_but_not_the_user_model_pin_or_parameters() -> None:
    base = cache_key(1, "acme/chat", req(temperature=0.2, top_p=1))
    assert cache_key(1, "acme/chat", req(top_p=1, temperature=0.2, stream=True, user="u",
                                         stream_options={"include_usage": True}, model="other-alias")) == base
    assert cache_key(2, "acme/chat", req(temperature=0.2, top_p=1)) != base
    assert cache_key(1, "acme/other", req(temperature=0.2, top_p=1)) != base
    assert cache_key(1, "acme/chat", req(temperature=0.3, top_p=1)) != base
    pinned = req(temperature=0.2, top_p=1)
    pinned.provider = "beta"
    assert cache_key(1, "acme/chat", pinned) != base
    for field, value in (("tools", [{"type": "function"}]), ("seed", 1), ("max_tokens", 5), ("stop", ["x"])):
        assert cache_key(1, "acme/chat", req(temperature=0.2, top_p=1, **{field: value})) != base


def body(finish: str | None, **message: object) -> dict[str, object]:
    return {"choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}]}


def test_only_complete_single_choice_answers_are_kept() -> None:
    usage = Usage(prompt_tokens=3, completion_tokens=2)
    for finish in ("stop", "length", "tool_calls"):
        assert from_completion(body(finish, content="x"), usage, "alpha", Decimal(1)) is not None
    assert from_completion(body("content_filter", content="x"), usage, "alpha", Decimal(1)) is None
    assert from_completion(body(None, content="x"), usage, "alpha", Decimal(1)) is None
    two = {"choices": body("stop", content="a")["choices"] * 2}  # type: ignore[operator]
    assert from_completion(two, usage, "alpha", Decimal(1)) is None


def test_a_kept_answer_round_trips_and_replays_as_a_completion_and_as_chunks() -> None:
    calls = [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]
    kept = from_completion(body("tool_calls", content=None, tool_calls=calls, refusal=None),
                           Usage(prompt_tokens=3, completion_tokens=2), "alpha", Decimal("0.000007"))
    assert kept is not None and decode_answer(encode_answer(kept)) == kept
    assert decode_answer(b"not json") is None
    whole = replayed_completion(kept, request_id="r1", model="acme/chat", created=5)
    choice = whole.body["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": None, "tool_calls": calls}
    assert choice["finish_reason"] == "tool_calls" and whole.usage.total_tokens == 5
    chunks = replayed_chunks(kept, request_id="r1", model="acme/chat", created=5)
    assert chunks[-1].usage == Usage(prompt_tokens=3, completion_tokens=2) and chunks[-1].data["choices"] == []
    assembled = StreamedAnswer()
    for chunk in chunks:
        assembled.add(chunk.data)
    assert assembled.finish_reason == "tool_calls"
    assert assembled.message() == {"role": "assistant", "content": None, "tool_calls": calls}


def test_a_streamed_answer_assembles_into_the_message_a_whole_completion_carries() -> None:
    answer = StreamedAnswer()
    for delta, finish in (({"role": "assistant", "content": "Hel"}, None), ({"content": "lo"}, None), ({}, "stop")):
        answer.add({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    assert answer.message() == {"role": "assistant", "content": "Hello"} and answer.finish_reason == "stop"
    kept = CachedAnswer(message=answer.message(), finish_reason="stop", prompt_tokens=1, completion_tokens=1,
                        provider="alpha", cost=Decimal(0))
    text = "".join(c.text for c in replayed_chunks(kept, request_id="r", model="m", created=0))
    assert text == "Hello"


def test_the_users_preference_is_on_unless_set_to_false() -> None:
    assert user_enabled(None) and user_enabled({}) and user_enabled({"enable_butter_cache": True})
    assert user_enabled({"theme": "dark"}) and not user_enabled({"enable_butter_cache": False})


def test_the_original_messages_body_is_part_of_the_key() -> None:
    a, b = req(), req()
    a.anthropic_body = {"messages": MESSAGES, "top_k": 5, "stream": True}
    b.anthropic_body = {"messages": MESSAGES, "top_k": 6}
    assert cache_key(1, "m", a) != cache_key(1, "m", b)
    b.anthropic_body = {"messages": MESSAGES, "top_k": 5}
    assert cache_key(1, "m", a) == cache_key(1, "m", b)
