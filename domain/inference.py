"""Protocol-neutral inference: what every codec decodes to and every provider adapter speaks.

The internal lingua franca is the OpenAI wire shape (a plain dict), because most providers speak it:
a request for an OpenAI-compatible provider is forwarded with only the model swapped, and unknown
fields pass through. Anthropic and AI-SDK codecs translate at the edges."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import msgspec


class Operation(StrEnum):
    CHAT = "chat"              # /v1/chat/completions, /v1/messages, AI SDK
    COMPLETION = "completion"  # legacy /v1/completions
    EMBEDDING = "embedding"    # /v1/embeddings


class Usage(msgspec.Struct, frozen=True, kw_only=True):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False  # the provider gave none; counted by the gateway

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class InferenceRequest(msgspec.Struct, kw_only=True):
    operation: Operation
    model: str                        # as the client asked (canonical id or alias)
    body: dict[str, Any]              # OpenAI-shaped body; gateway-only fields already removed
    stream: bool = False
    include_usage: bool = False       # the client asked for usage in the stream
    max_tokens: int | None = None
    provider: str | None = None       # pin to one provider
    prompt_tokens_estimate: int = 0
    anthropic_body: dict[str, Any] | None = None  # original Messages body, for Anthropic-native providers
    request_id: str | None = None     # the gateway's id, when the inbound side assigned one already
    client_request_id: str | None = None  # the client's X-Request-Id, kept on the request row
    cache_bypass: bool = False        # `X-Gatewayz-Cache: bypass` or `Cache-Control: no-cache` (read only when caching)


class Completion(msgspec.Struct, kw_only=True):
    """A whole (non-streamed) answer in OpenAI shape."""

    body: dict[str, Any]
    usage: Usage


class Chunk(msgspec.Struct, kw_only=True):
    """One streamed event in OpenAI `chat.completion.chunk` (or `text_completion`) shape.

    `raw` holds the upstream's exact JSON bytes when they can be forwarded untouched; `text` is the
    content it adds (for usage estimation when a provider sends none); `usage` is set on the chunk
    that carries the provider's final usage."""

    data: dict[str, Any]
    raw: bytes | None = None
    text: str = ""
    usage: Usage | None = None


def estimate_tokens(text: str) -> int:
    """A fast, provider-neutral count: about four characters per token, at least one per word."""
    if not text:
        return 0
    return max(len(text) // 4, len(text.split()))


def prompt_text(body: dict[str, Any]) -> str:
    """All text a request sends (messages, prompt or input), for the fast prompt count."""
    parts: list[str] = []
    for message in body.get("messages") or ():
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    for key in ("prompt", "input"):
        value = body.get(key)
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            parts.extend(v for v in value if isinstance(v, str))
    return " ".join(parts)


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    """Who asks: a key's user, or an anonymous client known only by its (hashed) address."""

    user_id: int | None = None
    api_key_id: int | None = None
    client_ip: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.user_id is None
