"""AI SDK shapes (#1629/#1630): a slim chat completion and a slim SSE delta stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec

from adapters.http.codecs.openai import gateway_usage
from adapters.http.schemas.ai_sdk import AISDKChatRequest
from domain.inference import InferenceRequest, Operation, estimate_tokens, prompt_text
from domain.services.chat_completion import Reply, StreamReply
from domain.upstream import UpstreamError

_encode = msgspec.json.Encoder(decimal_format="number").encode


def inference_request(req: AISDKChatRequest) -> InferenceRequest:
    body: dict[str, Any] = {"model": req.model, "messages": [{"role": m.role, "content": m.content}
                                                             for m in req.messages]}
    for name in ("max_tokens", "temperature", "top_p", "frequency_penalty", "presence_penalty"):
        value = getattr(req, name)
        if value is not None:
            body[name] = value
    stream = bool(req.stream)
    body["stream"] = stream
    return InferenceRequest(operation=Operation.CHAT, model=req.model, body=body, stream=stream,
                            include_usage=True, max_tokens=req.max_tokens,
                            prompt_tokens_estimate=estimate_tokens(prompt_text(body)))


def encode_reply(reply: Reply) -> bytes:
    choice = (reply.completion.body.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    usage = reply.completion.usage
    return _encode({
        "choices": [{"message": {"role": message.get("role", "assistant"), "content": message.get("content") or ""},
                     "finish_reason": choice.get("finish_reason")}],
        "usage": {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
                  "total_tokens": usage.total_tokens, "cost": reply.cost},
        "gateway_usage": gateway_usage(reply),
    })


def _data(payload: dict[str, Any]) -> bytes:
    return b"data: " + _encode(payload) + b"\n\n"


async def sse_events(reply: StreamReply) -> AsyncIterator[bytes]:
    chunks = reply.chunks
    finish: str | None = None
    try:
        async for chunk in chunks:
            for choice in chunk.data.get("choices") or ():
                content = (choice.get("delta") or {}).get("content")
                if content:
                    yield _data({"choices": [{"delta": {"role": "assistant", "content": content}}]})
                finish = choice.get("finish_reason") or finish
        yield _data({"choices": [{"finish_reason": finish or "stop"}]})
        yield b"data: [DONE]\n\n"
    except UpstreamError as exc:
        yield _data({"error": {"message": exc.message or "Upstream stream interrupted", "type": "upstream_error",
                               "request_id": reply.request_id}})
        yield b"data: [DONE]\n\n"
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]
