"""Validation shapes of the OpenAI-compatible routes, with the seed's bounds (#1689).

Bodies are decoded once to a dict (unknown fields pass through to the provider) and validated
against these Structs with msgspec.convert."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

Role = Literal["system", "user", "assistant", "tool", "function", "developer"]
Unit = Annotated[float, Meta(ge=0, le=1)]
Penalty = Annotated[float, Meta(ge=-2, le=2)]
PositiveInt = Annotated[int, Meta(ge=1)]


class Message(msgspec.Struct, kw_only=True):
    role: Role
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None


class StreamOptions(msgspec.Struct, kw_only=True):
    include_usage: bool = False


class ChatCompletionRequest(msgspec.Struct, kw_only=True):
    model: Annotated[str, Meta(min_length=1, max_length=256)]
    messages: Annotated[list[Message], Meta(min_length=1)]
    max_tokens: PositiveInt | None = None
    max_completion_tokens: PositiveInt | None = None
    temperature: Annotated[float, Meta(ge=0, le=2)] | None = None
    top_p: Unit | None = None
    n: PositiveInt | None = None
    stop: str | Annotated[list[str], Meta(max_length=4)] | None = None
    frequency_penalty: Penalty | None = None
    presence_penalty: Penalty | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = None
    parallel_tool_calls: bool | None = None
    response_format: dict[str, Any] | None = None
    logprobs: bool | None = None
    top_logprobs: Annotated[int, Meta(ge=0, le=20)] | None = None
    logit_bias: dict[str, float] | None = None
    seed: int | None = None
    user: str | None = None
    service_tier: str | None = None
    provider: str | None = None
    auto_web_search: Literal["auto", "always", "never"] | bool | None = None
    web_search_threshold: Unit | None = None


class CompletionRequest(msgspec.Struct, kw_only=True):
    model: Annotated[str, Meta(min_length=1, max_length=256)]
    prompt: str | Annotated[list[str], Meta(min_length=1)]
    max_tokens: PositiveInt | None = None
    temperature: Annotated[float, Meta(ge=0, le=2)] | None = None
    top_p: Unit | None = None
    n: PositiveInt | None = None
    stop: str | Annotated[list[str], Meta(max_length=4)] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    provider: str | None = None


class EmbeddingRequest(msgspec.Struct, kw_only=True):
    model: Annotated[str, Meta(min_length=1, max_length=256)]
    # Text, texts, token ids or token id arrays. msgspec allows one array type per union, so the item
    # kinds share one list (a mixed list is the provider's to refuse).
    input: str | Annotated[list[str | int | list[int]], Meta(min_length=1)]
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: PositiveInt | None = None
    user: str | None = None
    provider: str | None = None


# Fields the gateway consumes; never forwarded to a provider.
GATEWAY_FIELDS = ("provider", "auto_web_search", "web_search_threshold")
