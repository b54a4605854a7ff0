"""Wire formats for the fake upstream: pure functions, no I/O.

Kept apart from the server so the byte layouts (OpenAI chat/completions/embeddings,
Anthropic Messages, their SSE streams and error bodies) can be read and checked in
one place. Everything is deterministic: ids come from a counter, token counts from
word counts, embeddings from a hash of the input.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

try:  # msgspec is a gateway dependency; fall back so the fake never needs it.
    import msgspec

    _encode, loads = msgspec.json.encode, msgspec.json.decode
except ImportError:  # pragma: no cover
    import json

    def _encode(obj: Any) -> bytes:  # type: ignore[misc]
        return json.dumps(obj, separators=(",", ":")).encode()

    loads = json.loads  # type: ignore[assignment]


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes (msgspec when importable: it is several times faster)."""
    return _encode(obj)


@dataclass
class Script:
    """What the fake does for one native model name (see FakeUpstream.script)."""

    status: int = 200
    error_message: str = "upstream error"
    delay_s: float = 0.0
    chunk_delay_s: float = 0.0
    content: str = "Hello from the fake upstream."
    stream_chunks: int | None = None
    drop_after_chunks: int | None = None
    omit_usage: bool = False
    tool_calls: list[dict[str, Any]] | None = None
    retry_after: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    times: int | None = None


@dataclass(slots=True)
class Plan:
    """The reply decided for one request, shared by every wire format."""

    pieces: list[str]  # content chunks; each word keeps its leading whitespace
    tools: list[tuple[str, str, str]] = field(default_factory=list)  # (id, name, arguments)
    truncated: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    usage: bool = True

    @property
    def text(self) -> str:
        return "".join(self.pieces)


# ---------------------------------------------------------------- token counting

_WORD = re.compile(r"\s*\S+")


def words_in(content: Any) -> int:
    """Words in a message content: str, or a list of text parts / tool_result blocks."""
    if isinstance(content, str):
        return len(content.split())
    if isinstance(content, list):
        n = 0
        for part in content:
            if isinstance(part, str):
                n += len(part.split())
            elif isinstance(part, dict):
                if isinstance(part.get("text"), str):
                    n += len(part["text"].split())
                elif "content" in part:
                    n += words_in(part["content"])
        return n
    return 0


def prompt_tokens_messages(messages: Any, system: Any = None) -> int:
    """Words of all message texts + 3 per message (+ words of an Anthropic system)."""
    msgs = messages if isinstance(messages, list) else []
    return sum(words_in(m.get("content")) + 3 for m in msgs if isinstance(m, dict)) + words_in(system)


def input_tokens(value: Any) -> int:
    """Legacy prompt / embedding input: str, list of str, or token arrays."""
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        if value and all(isinstance(v, int) for v in value):
            return len(value)
        return sum(input_tokens(v) for v in value)
    return 0


@lru_cache(maxsize=256)
def _words(content: str, n_chunks: int | None) -> tuple[str, ...]:
    """Split into words; cycle them when a fixed chunk count asks for more words."""
    words = _WORD.findall(content)
    if n_chunks and words and len(words) < n_chunks:
        base = [w.strip() for w in words]
        words += [" " + base[i % len(base)] for i in range(len(words), n_chunks)]
    return tuple(words)


def plan(script: Script, prompt_tokens: int, max_tokens: Any, seq: int, tool_prefix: str) -> Plan:
    """Decide content chunks, tool calls, truncation and usage for one request."""
    p = Plan(pieces=[], prompt_tokens=prompt_tokens, usage=not script.omit_usage)
    if script.tool_calls:
        for i, tc in enumerate(script.tool_calls):
            args = tc.get("arguments", "{}")
            args = args if isinstance(args, str) else dumps(args).decode()
            p.tools.append((tc.get("id") or f"{tool_prefix}{seq:08d}{i}", tc["name"], args))
        p.completion_tokens = sum(len(a.split()) + 1 for _, _, a in p.tools)
    else:
        words = list(_words(script.content, script.stream_chunks))
        if isinstance(max_tokens, int) and 0 <= max_tokens < len(words):
            words, p.truncated = words[:max_tokens], True
        p.completion_tokens = len(words)
        n = min(script.stream_chunks or len(words), len(words))
        p.pieces = ["".join(words[i * len(words) // n : (i + 1) * len(words) // n]) for i in range(n)]
    if script.prompt_tokens is not None:
        p.prompt_tokens = script.prompt_tokens
    if script.completion_tokens is not None:
        p.completion_tokens = script.completion_tokens
    return p


# ---------------------------------------------------------------- OpenAI

_OAI_ERR = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}


def openai_error(status: int, message: str) -> bytes:
    etype, code = _OAI_ERR.get(status, ("server_error" if status >= 500 else "invalid_request_error", None))
    return dumps({"error": {"message": message, "type": etype, "param": None, "code": code}})


def openai_usage(p: Plan) -> dict[str, int]:
    return {
        "prompt_tokens": p.prompt_tokens,
        "completion_tokens": p.completion_tokens,
        "total_tokens": p.prompt_tokens + p.completion_tokens,
    }


def _finish(p: Plan) -> str:
    return "tool_calls" if p.tools else ("length" if p.truncated else "stop")


def chat_body(p: Plan, model: str, rid: str, created: int) -> bytes:
    msg: dict[str, Any] = {"role": "assistant", "content": None if p.tools else p.text, "refusal": None}
    if p.tools:
        msg["tool_calls"] = [
            {"id": i, "type": "function", "function": {"name": n, "arguments": a}} for i, n, a in p.tools
        ]
    body: dict[str, Any] = {
        "id": rid,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": msg, "logprobs": None, "finish_reason": _finish(p)}],
    }
    if p.usage:
        body["usage"] = openai_usage(p)
    return dumps(body)


def _halves(s: str) -> list[str]:
    return [s[: len(s) // 2], s[len(s) // 2 :]] if len(s) > 1 else [s]


def chat_stream(
    p: Plan, model: str, rid: str, created: int, include_usage: bool
) -> Iterator[tuple[bool, bytes]]:
    """(is_content_chunk, frame) pairs of a chat.completion.chunk SSE stream."""
    head = b'data: {"id":"%s","object":"chat.completion.chunk","created":%d,"model":%s,"choices":' % (
        rid.encode(),
        created,
        dumps(model),
    )

    def frame(delta: Any, finish: str | None = None) -> bytes:
        return (
            head + dumps([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]) + b"}\n\n"
        )

    yield False, frame({"role": "assistant", "content": "" if not p.tools else None})
    pre, post = head + b'[{"index":0,"delta":{"content":', b'},"logprobs":null,"finish_reason":null}]}\n\n'
    for piece in p.pieces:
        yield True, pre + dumps(piece) + post
    for idx, (tid, name, args) in enumerate(p.tools):
        fn = {"name": name, "arguments": ""}
        yield True, frame({"tool_calls": [{"index": idx, "id": tid, "type": "function", "function": fn}]})
        for part in _halves(args):
            yield True, frame({"tool_calls": [{"index": idx, "function": {"arguments": part}}]})
    yield False, frame({}, _finish(p))
    if include_usage and p.usage:
        yield False, head + b'[],"usage":' + dumps(openai_usage(p)) + b"}\n\n"
    yield False, b"data: [DONE]\n\n"


def completion_body(p: Plan, model: str, rid: str, created: int) -> bytes:
    body: dict[str, Any] = {
        "id": rid,
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": [{"text": p.text, "index": 0, "logprobs": None, "finish_reason": _finish(p)}],
    }
    if p.usage:
        body["usage"] = openai_usage(p)
    return dumps(body)


def completion_stream(
    p: Plan, model: str, rid: str, created: int, include_usage: bool
) -> Iterator[tuple[bool, bytes]]:
    head = b'data: {"id":"%s","object":"text_completion","created":%d,"model":%s,"choices":' % (
        rid.encode(),
        created,
        dumps(model),
    )
    for piece in p.pieces:
        yield (
            True,
            head + dumps([{"text": piece, "index": 0, "logprobs": None, "finish_reason": None}]) + b"}\n\n",
        )
    yield (
        False,
        head + dumps([{"text": "", "index": 0, "logprobs": None, "finish_reason": _finish(p)}]) + b"}\n\n",
    )
    if include_usage and p.usage:
        yield False, head + b'[],"usage":' + dumps(openai_usage(p)) + b"}\n\n"
    yield False, b"data: [DONE]\n\n"


def embedding(text: Any) -> list[float]:
    """8 floats in [-1, 1) derived from sha256 of the input: stable across runs."""
    raw = text if isinstance(text, str) else dumps(text).decode()
    d = hashlib.sha256(raw.encode()).digest()
    return [round(int.from_bytes(d[i : i + 4], "little") / 2**31 - 1.0, 6) for i in range(0, 32, 4)]


def embeddings_body(inputs: Any, model: str, encoding: str | None, tokens: int, usage: bool) -> bytes:
    items = (
        [inputs] if isinstance(inputs, str) or (inputs and isinstance(inputs[0], int)) else list(inputs or [])
    )
    data = []
    for i, item in enumerate(items):
        vec: Any = embedding(item)
        if encoding == "base64":  # the openai SDK asks for base64 unless told otherwise
            vec = base64.b64encode(struct.pack("<8f", *vec)).decode()
        data.append({"object": "embedding", "index": i, "embedding": vec})
    body: dict[str, Any] = {"object": "list", "data": data, "model": model}
    if usage:
        body["usage"] = {"prompt_tokens": tokens, "total_tokens": tokens}
    return dumps(body)


# ---------------------------------------------------------------- Anthropic

_ANT_ERR = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def anthropic_error(status: int, message: str) -> bytes:
    etype = _ANT_ERR.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return dumps({"type": "error", "error": {"type": etype, "message": message}})


def _stop_reason(p: Plan) -> str:
    return "tool_use" if p.tools else ("max_tokens" if p.truncated else "end_turn")


def _tool_input(args: str) -> Any:
    try:
        return loads(args)
    except Exception:
        return {}


def messages_body(p: Plan, model: str, rid: str) -> bytes:
    if p.tools:
        content = [{"type": "tool_use", "id": i, "name": n, "input": _tool_input(a)} for i, n, a in p.tools]
    else:
        content = [{"type": "text", "text": p.text}]
    body: dict[str, Any] = {
        "id": rid,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": _stop_reason(p),
        "stop_sequence": None,
    }
    if p.usage:
        body["usage"] = {"input_tokens": p.prompt_tokens, "output_tokens": p.completion_tokens}
    return dumps(body)


def _event(name: bytes, data: dict[str, Any]) -> bytes:
    return b"event: " + name + b"\ndata: " + dumps(data) + b"\n\n"


def messages_stream(p: Plan, model: str, rid: str) -> Iterator[tuple[bool, bytes]]:
    """(is_content_chunk, frame) pairs of the Messages API event stream."""
    msg: dict[str, Any] = {
        "id": rid,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
    }
    if p.usage:
        msg["usage"] = {"input_tokens": p.prompt_tokens, "output_tokens": 1}
    yield False, _event(b"message_start", {"type": "message_start", "message": msg})
    if p.tools:
        for idx, (tid, name, args) in enumerate(p.tools):
            block = {"type": "tool_use", "id": tid, "name": name, "input": {}}
            yield (
                False,
                _event(
                    b"content_block_start",
                    {"type": "content_block_start", "index": idx, "content_block": block},
                ),
            )
            if idx == 0:
                yield False, _event(b"ping", {"type": "ping"})
            for part in _halves(args):
                delta = {"type": "input_json_delta", "partial_json": part}
                yield (
                    True,
                    _event(
                        b"content_block_delta", {"type": "content_block_delta", "index": idx, "delta": delta}
                    ),
                )
            yield False, _event(b"content_block_stop", {"type": "content_block_stop", "index": idx})
    else:
        block = {"type": "text", "text": ""}
        yield (
            False,
            _event(
                b"content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}
            ),
        )
        yield False, _event(b"ping", {"type": "ping"})
        pre = (
            b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
            b'"delta":{"type":"text_delta","text":'
        )
        for piece in p.pieces:
            yield True, pre + dumps(piece) + b"}}\n\n"
        yield False, _event(b"content_block_stop", {"type": "content_block_stop", "index": 0})
    delta_ev: dict[str, Any] = {
        "type": "message_delta",
        "delta": {"stop_reason": _stop_reason(p), "stop_sequence": None},
    }
    if p.usage:
        delta_ev["usage"] = {"output_tokens": p.completion_tokens}
    yield False, _event(b"message_delta", delta_ev)
    yield False, _event(b"message_stop", {"type": "message_stop"})
