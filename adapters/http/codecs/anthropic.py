"""Anthropic Messages API at the edge: requests in, messages and the SSE event sequence out.

The pipeline speaks OpenAI shapes; this codec translates both ways. The original body rides along
(`anthropic_body`) so an Anthropic-native provider receives exactly what the client sent."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import msgspec

from adapters.http.codecs.openai import gateway_usage
from adapters.http.schemas.messages import MessagesRequest
from domain.inference import InferenceRequest, Operation, estimate_tokens
from domain.services.chat_completion import Reply, StreamReply
from domain.upstream import UpstreamError

_encode = msgspec.json.Encoder(decimal_format="number").encode
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "function_call": "tool_use",
                "content_filter": "end_turn"}


def _text_of(content: str | list[dict[str, Any]] | None) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")


def _image_part(block: dict[str, Any]) -> dict[str, Any]:
    source = block.get("source") or {}
    if source.get("type") == "url":
        url = source.get("url", "")
    else:
        url = f"data:{source.get('media_type', 'image/png')};base64,{source.get('data', '')}"
    return {"type": "image_url", "image_url": {"url": url}}


def _tool_result_text(block: dict[str, Any]) -> str:
    content = block.get("content")
    return content if isinstance(content, str) else _text_of(content)


def openai_messages(req: MessagesRequest) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    system = _text_of(req.system)
    if system:
        out.append({"role": "system", "content": system})
    for message in req.messages:
        if isinstance(message.content, str):
            out.append({"role": message.role, "content": message.content})
            continue
        parts: list[dict[str, Any]] = []
        tool_calls: list[dict[str, Any]] = []
        for block in message.content:
            kind = block.get("type")
            if kind == "text":
                parts.append({"type": "text", "text": block.get("text", "")})
            elif kind == "image":
                parts.append(_image_part(block))
            elif kind == "tool_use":
                tool_calls.append({"id": block.get("id"), "type": "function", "function": {
                    "name": block.get("name"), "arguments": json.dumps(block.get("input") or {})}})
            elif kind == "tool_result":
                out.append({"role": "tool", "tool_call_id": block.get("tool_use_id"),
                            "content": _tool_result_text(block)})
        if message.role == "assistant":
            text = "".join(p["text"] for p in parts if p["type"] == "text")
            entry: dict[str, Any] = {"role": "assistant", "content": text or None}
            if tool_calls:
                entry["tool_calls"] = tool_calls
            if text or tool_calls:
                out.append(entry)
        elif parts:
            only_text = all(p["type"] == "text" for p in parts)
            out.append({"role": "user", "content": "".join(p["text"] for p in parts) if only_text else parts})
    return out


def _tool_choice(choice: dict[str, Any] | None) -> Any:
    if not choice:
        return None
    kind = choice.get("type")
    if kind == "tool":
        return {"type": "function", "function": {"name": choice.get("name")}}
    return {"any": "required", "none": "none"}.get(str(kind), "auto")


def inference_request(raw: dict[str, Any], req: MessagesRequest) -> InferenceRequest:
    messages = openai_messages(req)
    body: dict[str, Any] = {"model": req.model, "messages": messages, "max_tokens": req.max_tokens,
                            "stream": req.stream}
    for name, value in (("temperature", req.temperature), ("top_p", req.top_p), ("stop", req.stop_sequences)):
        if value is not None:
            body[name] = value
    if req.tools:
        body["tools"] = [{"type": "function", "function": {
            "name": t.get("name"), "description": t.get("description", ""),
            "parameters": t.get("input_schema") or {"type": "object", "properties": {}}}} for t in req.tools]
    choice = _tool_choice(req.tool_choice)
    if choice is not None:
        body["tool_choice"] = choice
    native = {k: v for k, v in raw.items() if k != "provider"}
    prompt = " ".join(_text_of(m.get("content")) if isinstance(m.get("content"), str | list) else ""
                      for m in messages)
    return InferenceRequest(operation=Operation.CHAT, model=req.model, body=body, stream=req.stream,
                            include_usage=True, max_tokens=req.max_tokens, provider=req.provider,
                            prompt_tokens_estimate=estimate_tokens(prompt), anthropic_body=native)


def _content_blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    text = message.get("content")
    if isinstance(text, str) and text:
        blocks.append({"type": "text", "text": text})
    for call in message.get("tool_calls") or ():
        fn = call.get("function") or {}
        try:
            arguments = json.loads(fn.get("arguments") or "{}")
        except ValueError:
            arguments = {"_raw": fn.get("arguments")}
        blocks.append({"type": "tool_use", "id": call.get("id"), "name": fn.get("name"), "input": arguments})
    return blocks


def encode_reply(reply: Reply) -> bytes:
    body = reply.completion.body
    choice = (body.get("choices") or [{}])[0]
    usage = reply.completion.usage
    return _encode({
        "id": "msg_" + reply.request_id, "type": "message", "role": "assistant", "model": reply.model.id,
        "content": _content_blocks(choice.get("message") or {}),
        "stop_reason": STOP_REASONS.get(choice.get("finish_reason") or "stop", "end_turn"),
        "stop_sequence": None,
        "usage": {"input_tokens": usage.prompt_tokens, "output_tokens": usage.completion_tokens},
        "gateway_usage": gateway_usage(reply),
    })


def _event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + _encode(data) + b"\n\n"


class _Blocks:
    """Tracks the open content block while OpenAI deltas arrive."""

    def __init__(self) -> None:
        self.index = -1
        self.open: str | None = None  # "text" | "tool:<openai index>"

    def start(self, kind: str, block: dict[str, Any]) -> list[bytes]:
        out = self.stop()
        self.index += 1
        self.open = kind
        out.append(_event("content_block_start", {"type": "content_block_start", "index": self.index,
                                                  "content_block": block}))
        return out

    def stop(self) -> list[bytes]:
        if self.open is None:
            return []
        self.open = None
        return [_event("content_block_stop", {"type": "content_block_stop", "index": self.index})]


def _translate_delta(choice: dict[str, Any], blocks: _Blocks) -> list[bytes]:
    out: list[bytes] = []
    delta = choice.get("delta") or {}
    text = delta.get("content")
    if text:
        if blocks.open != "text":
            out += blocks.start("text", {"type": "text", "text": ""})
        out.append(_event("content_block_delta", {"type": "content_block_delta", "index": blocks.index,
                                                  "delta": {"type": "text_delta", "text": text}}))
    for call in delta.get("tool_calls") or ():
        key = f"tool:{call.get('index', 0)}"
        fn = call.get("function") or {}
        if blocks.open != key:
            out += blocks.start(key, {"type": "tool_use", "id": call.get("id") or f"toolu_{blocks.index + 1}",
                                      "name": fn.get("name") or "", "input": {}})
        if fn.get("arguments"):
            out.append(_event("content_block_delta", {"type": "content_block_delta", "index": blocks.index,
                                                      "delta": {"type": "input_json_delta",
                                                                "partial_json": fn["arguments"]}}))
    return out


async def sse_events(reply: StreamReply, prompt_tokens: int) -> AsyncIterator[bytes]:
    chunks = reply.chunks
    blocks = _Blocks()
    stop_reason = "end_turn"
    usage_in, usage_out = prompt_tokens, 0
    produced = 0
    try:
        yield _event("message_start", {"type": "message_start", "message": {
            "id": "msg_" + reply.request_id, "type": "message", "role": "assistant", "content": [],
            "model": reply.model.id, "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": prompt_tokens, "output_tokens": 0}}})
        yield _event("ping", {"type": "ping"})
        async for chunk in chunks:
            if chunk.usage is not None:
                usage_in, usage_out = chunk.usage.prompt_tokens, chunk.usage.completion_tokens
            produced += len(chunk.text)
            for choice in chunk.data.get("choices") or ():
                for frame in _translate_delta(choice, blocks):
                    yield frame
                if choice.get("finish_reason"):
                    stop_reason = STOP_REASONS.get(choice["finish_reason"], "end_turn")
        for frame in blocks.stop():
            yield frame
        yield _event("message_delta", {"type": "message_delta",
                                       "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                                       "usage": {"input_tokens": usage_in,
                                                 "output_tokens": usage_out or max(produced // 4, 0)}})
        yield _event("message_stop", {"type": "message_stop"})
    except UpstreamError as exc:
        yield _event("error", {"type": "error", "error": {"type": "api_error",
                                                          "message": exc.message or "Upstream stream interrupted"},
                               "request_id": reply.request_id})
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]
