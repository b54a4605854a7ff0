"""The response cache (the seed's Butter.dev, built in): what is kept, under which key, and how a kept
answer is replayed as a whole completion or as a stream.

Entries are per user: the key hashes the user id with the canonical model and everything in the body
that changes the output. `stream`, `stream_options` and `user` are left out, so an answer cached from
a non-streaming call replays as a stream and the reverse. The value is protocol-neutral (the assistant
message, finish reason, usage, serving provider, original cost); every route re-encodes it."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from enum import StrEnum
from typing import Any

import msgspec

from domain.inference import Chunk, Completion, InferenceRequest, Operation, Usage

MAX_ENTRY_BYTES = 1024 * 1024
COMPLETE = frozenset({"stop", "length", "tool_calls"})  # never errors, cut or cancelled answers
NOT_IN_KEY = frozenset({"stream", "stream_options", "user", "model"})  # model: the resolved id goes in instead
PREFERENCE = "enable_butter_cache"       # users.preferences key (set through PUT /user/profile)
HIT_KEY = "butter_cache_hit"            # the seed's metadata keys, which the analytics read
ACTUAL_COST_KEY = "actual_cost_usd"
DISABLED_BY_USER = "Cache is disabled. Enable it in settings to start saving on API costs."
DISABLED_BY_SYSTEM = "The response cache is disabled on this gateway."

_canonical = msgspec.json.Encoder(order="sorted", decimal_format="number")


class CacheStatus(StrEnum):
    """What `X-Gatewayz-Cache` says about one request."""

    HIT = "hit"
    MISS = "miss"
    BYPASS = "bypass"      # the request, the user's preference, or the caller (anonymous) skipped it
    DISABLED = "disabled"  # the gateway's switch is off


class CachedAnswer(msgspec.Struct, frozen=True, kw_only=True):
    message: dict[str, Any]          # the assistant message: role, content, tool_calls
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    provider: str
    cost: Decimal                    # what the original request was charged

    @property
    def usage(self) -> Usage:
        return Usage(prompt_tokens=self.prompt_tokens, completion_tokens=self.completion_tokens)


_encoder = msgspec.json.Encoder(decimal_format="number")
_decoder = msgspec.json.Decoder(CachedAnswer, float_hook=Decimal)


def encode_answer(answer: CachedAnswer) -> bytes:
    return _encoder.encode(answer)


def decode_answer(raw: bytes) -> CachedAnswer | None:
    """None for an entry that does not decode (a different version wrote it): a miss, not an error."""
    try:
        return _decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def cacheable(request: InferenceRequest) -> bool:
    """Chat and legacy completion answers with one choice; embeddings are not kept."""
    if request.operation is Operation.EMBEDDING:
        return False
    n = request.body.get("n")
    return n is None or n == 1


def cache_key(user_id: int, model_id: str, request: InferenceRequest) -> str:
    """SHA-256 of the canonical JSON (sorted keys) of the user, the resolved model, the provider pin and
    every body field but those that only change the transport (of the original Messages body too, which
    Anthropic-native providers receive as it was sent)."""
    params = {k: v for k, v in request.body.items() if k not in NOT_IN_KEY}
    material: dict[str, Any] = {"user": user_id, "model": model_id, "provider": request.provider, "body": params,
                                "operation": request.operation.value}
    if request.anthropic_body is not None:
        material["messages_body"] = {k: v for k, v in request.anthropic_body.items() if k not in NOT_IN_KEY}
    return hashlib.sha256(_canonical.encode(material)).hexdigest()


def from_completion(body: dict[str, Any], usage: Usage, provider: str, cost: Decimal) -> CachedAnswer | None:
    """The answer of a whole completion, or None when it is not complete (or not one plain choice)."""
    choices = body.get("choices")
    if not isinstance(choices, list) or len(choices) != 1 or not isinstance(choices[0], dict):
        return None
    message = choices[0].get("message")
    if message is None and isinstance(choices[0].get("text"), str):  # a legacy text completion
        message = {"role": "assistant", "content": choices[0]["text"]}
    finish = choices[0].get("finish_reason")
    if not isinstance(message, dict) or finish not in COMPLETE:
        return None
    kept = {k: message[k] for k in ("role", "content", "tool_calls") if message.get(k) is not None}
    kept.setdefault("role", "assistant")
    kept.setdefault("content", None)
    return CachedAnswer(message=kept, finish_reason=str(finish), prompt_tokens=usage.prompt_tokens,
                        completion_tokens=usage.completion_tokens, provider=provider, cost=cost)


def _usage(answer: CachedAnswer) -> dict[str, int]:
    return {"prompt_tokens": answer.prompt_tokens, "completion_tokens": answer.completion_tokens,
            "total_tokens": answer.prompt_tokens + answer.completion_tokens}


def _text(answer: CachedAnswer) -> str:
    content = answer.message.get("content")
    return content if isinstance(content, str) else ""


def completion_body(answer: CachedAnswer, *, request_id: str, model: str, created: int,
                    operation: Operation = Operation.CHAT) -> dict[str, Any]:
    """A chat completion (or a legacy text completion) in OpenAI shape; `usage.cost` is added by the codec."""
    if operation is Operation.COMPLETION:
        return {"id": f"cmpl-{request_id}", "object": "text_completion", "created": created, "model": model,
                "choices": [{"index": 0, "text": _text(answer), "logprobs": None,
                             "finish_reason": answer.finish_reason}], "usage": _usage(answer)}
    return {
        "id": f"chatcmpl-{request_id}", "object": "chat.completion", "created": created, "model": model,
        "choices": [{"index": 0, "message": dict(answer.message), "finish_reason": answer.finish_reason}],
        "usage": _usage(answer),
    }


def replayed_completion(answer: CachedAnswer, *, request_id: str, model: str, created: int,
                        operation: Operation = Operation.CHAT) -> Completion:
    return Completion(body=completion_body(answer, request_id=request_id, model=model, created=created,
                                           operation=operation), usage=answer.usage)


def replayed_chunks(answer: CachedAnswer, *, request_id: str, model: str, created: int,
                    operation: Operation = Operation.CHAT) -> list[Chunk]:
    """The answer as stream events: role and content, tool calls, finish, usage (`text_completion`
    events with the text, then the finish and the usage, for a legacy completion)."""
    if operation is Operation.COMPLETION:
        return _text_chunks(answer, request_id=request_id, model=model, created=created)
    head = {"id": f"chatcmpl-{request_id}", "object": "chat.completion.chunk", "created": created, "model": model}

    def event(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    content = answer.message.get("content")
    text = content if isinstance(content, str) else ""
    chunks = [Chunk(data=event({"role": "assistant", "content": text}), text=text)]
    calls = answer.message.get("tool_calls")
    if isinstance(calls, list) and calls:
        indexed = [{"index": i, **c} for i, c in enumerate(calls) if isinstance(c, dict)]
        chunks.append(Chunk(data=event({"tool_calls": indexed})))
    chunks.append(Chunk(data=event({}, answer.finish_reason)))
    usage = {"prompt_tokens": answer.prompt_tokens, "completion_tokens": answer.completion_tokens,
             "total_tokens": answer.prompt_tokens + answer.completion_tokens}
    chunks.append(Chunk(data={**head, "choices": [], "usage": usage}, usage=answer.usage))
    return chunks


def _text_chunks(answer: CachedAnswer, *, request_id: str, model: str, created: int) -> list[Chunk]:
    head = {"id": f"cmpl-{request_id}", "object": "text_completion", "created": created, "model": model}
    text = _text(answer)
    return [
        Chunk(data={**head, "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": None}]},
              text=text),
        Chunk(data={**head, "choices": [{"index": 0, "text": "", "logprobs": None,
                                         "finish_reason": answer.finish_reason}]}),
        Chunk(data={**head, "choices": [], "usage": _usage(answer)}, usage=answer.usage),
    ]


def user_enabled(preferences: Any) -> bool:
    """The user's `preferences.enable_butter_cache`: on unless set to false (the seed's default)."""
    return not (isinstance(preferences, dict) and preferences.get(PREFERENCE) is False)


def hit_metadata(cost: Decimal) -> dict[str, Any]:
    return {HIT_KEY: True, ACTUAL_COST_KEY: float(cost)}


MISS_METADATA: dict[str, Any] = {HIT_KEY: False}
