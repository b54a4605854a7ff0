"""The Vercel AI SDK request shape (#1629/#1630)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta


class AISDKMessage(msgspec.Struct, kw_only=True):
    role: Annotated[str, Meta(pattern="^(system|user|assistant|tool|developer)$")]
    content: str | list[dict[str, Any]]


class AISDKChatRequest(msgspec.Struct, kw_only=True):
    model: Annotated[str, Meta(min_length=1, max_length=256)]
    messages: Annotated[list[AISDKMessage], Meta(min_length=1)]
    max_tokens: Annotated[int, Meta(ge=1)] | None = None
    temperature: Annotated[float, Meta(ge=0, le=2)] | None = None
    top_p: Annotated[float, Meta(ge=0, le=1)] | None = None
    frequency_penalty: Annotated[float, Meta(ge=-2, le=2)] | None = None
    presence_penalty: Annotated[float, Meta(ge=-2, le=2)] | None = None
    stream: bool | None = False
