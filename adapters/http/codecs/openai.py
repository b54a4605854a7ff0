"""OpenAI wire format <-> the protocol-neutral InferenceRequest and the pipeline's replies."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import msgspec

from adapters.http.schemas.chat import GATEWAY_FIELDS
from domain.errors import InvalidInput
from domain.inference import InferenceRequest, Operation, estimate_tokens, prompt_text
from domain.services.chat_completion import Reply, StreamReply
from domain.upstream import UpstreamError

T = TypeVar("T")
_PATH_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")
_encode = msgspec.json.Encoder(decimal_format="number").encode  # money as exact JSON numbers
DONE = b"data: [DONE]\n\n"


def location(path: str) -> list[str | int]:
    """msgspec's `$.messages[0].role` -> FastAPI's ["body", "messages", 0, "role"]."""
    loc: list[str | int] = ["body"]
    for name, index in _PATH_PART.findall(path):
        loc.append(name if name else int(index))
    return loc


def decode_body(body: bytes) -> dict[str, Any]:
    try:
        raw = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"Request body is not valid JSON: {exc}", field=None) from exc
    if not isinstance(raw, dict):
        raise InvalidInput("Request body must be a JSON object", field=None)
    return raw


def validate(raw: dict[str, Any], shape: type[T]) -> T:
    try:
        return msgspec.convert(raw, shape)
    except msgspec.ValidationError as exc:
        message, _, path = str(exc).partition(" - at `")
        loc = location(path.rstrip("`")) if path else ["body"]
        field = ".".join(str(p) for p in loc[1:]) or None
        raise InvalidInput(message, field=field, loc=loc) from exc


def inference_request(raw: dict[str, Any], parsed: Any, operation: Operation) -> InferenceRequest:
    body = {k: v for k, v in raw.items() if k not in GATEWAY_FIELDS}
    options = getattr(parsed, "stream_options", None)
    max_tokens = getattr(parsed, "max_tokens", None) or getattr(parsed, "max_completion_tokens", None)
    return InferenceRequest(
        operation=operation, model=parsed.model, body=body, stream=bool(getattr(parsed, "stream", False)),
        include_usage=bool(options and options.include_usage), max_tokens=max_tokens,
        provider=getattr(parsed, "provider", None), prompt_tokens_estimate=estimate_tokens(prompt_text(raw)),
    )


def gateway_usage(reply: Reply) -> dict[str, Any]:
    usage = reply.completion.usage
    figures: dict[str, Any] = {"cost_usd": reply.cost, "tokens_charged": usage.total_tokens,
                               "request_ms": round(reply.elapsed_s * 1000)}
    if reply.savings is not None:  # a response-cache hit: charged nothing, saved the original cost
        figures["tokens_charged"] = 0
        figures["cache_savings_usd"] = reply.savings
    return figures


def encode_reply(reply: Reply) -> bytes:
    """The provider's body with the canonical model, `usage.cost` and `gateway_usage` added."""
    body = reply.completion.body
    body["model"] = reply.model.id
    usage = body.get("usage")
    if not isinstance(usage, dict):
        u = reply.completion.usage
        usage = body["usage"] = {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
                                 "total_tokens": u.total_tokens}
    usage["cost"] = reply.cost
    body["gateway_usage"] = gateway_usage(reply)
    return _encode(body)


def error_event(exc: UpstreamError, request_id: str) -> bytes:
    """A well-formed SSE error frame for a stream that broke after its first byte (with the id a user
    quotes to support, as in every other error body)."""
    error = {"message": exc.message or "Upstream stream interrupted", "type": "upstream_error",
             "code": exc.status or "stream_interrupted", "request_id": request_id}
    return b"data: " + _encode({"error": error}) + b"\n\n"


async def sse_events(reply: StreamReply, include_usage: bool) -> AsyncIterator[bytes]:
    """Forward chunks without re-encoding when the upstream's bytes can go out as they are."""
    chunks = reply.chunks
    try:
        async for chunk in chunks:
            if chunk.usage is not None and not include_usage and not chunk.data.get("choices"):
                continue  # we always ask for usage; the client did not
            yield b"data: " + (chunk.raw if chunk.raw is not None else _encode(chunk.data)) + b"\n\n"
        yield DONE
    except UpstreamError as exc:
        yield error_event(exc, reply.request_id)
        yield DONE
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]
