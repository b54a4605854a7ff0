"""The OpenAI-compatible wire kind: most providers speak it, so a request goes out as the client's
own body with only the model swapped (unknown fields pass through) and stream frames come back as
the exact bytes the provider sent, ready to forward."""

from __future__ import annotations

from typing import Any

import msgspec

from adapters.providers.sse import Event
from adapters.providers.target import Target
from adapters.providers.usage import estimated_usage, openai_usage, reply_text
from domain.catalog import Offer
from domain.inference import Chunk, Completion, InferenceRequest, Operation

_PATHS = {
    Operation.CHAT: "/chat/completions",
    Operation.COMPLETION: "/completions",
    Operation.EMBEDDING: "/embeddings",
}
_decode = msgspec.json.decode
_encode = msgspec.json.encode


class OpenAIKind:
    def headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def prepare(self, target: Target, offer: Offer, request: InferenceRequest, stream: bool) -> tuple[str, bytes]:
        """URL and encoded body: a shallow copy of the client's body, model swapped, quirks applied."""
        body = dict(request.body)
        body["model"] = offer.native_id
        profile = target.profile
        if stream:
            body["stream"] = True
            if profile.stream_options and request.operation is not Operation.EMBEDDING:
                options = body.get("stream_options")
                body["stream_options"] = {**options, "include_usage": True} if isinstance(options, dict) \
                    else {"include_usage": True}
            else:
                body.pop("stream_options", None)
        else:
            body.pop("stream", None)
            body.pop("stream_options", None)
        if profile.max_tokens_field != "max_tokens" and "max_tokens" in body:
            body[profile.max_tokens_field] = body.pop("max_tokens")
        for name in profile.drop_fields:
            body.pop(name, None)
        return target.base + _PATHS[request.operation], _encode(body)

    def completion(self, target: Target, data: dict[str, Any], request: InferenceRequest) -> Completion:
        if "error" in data and not data.get("choices") and not data.get("data"):
            raise target.payload_error(data)  # some hosts answer 200 with an error body
        usage = openai_usage(data.get("usage")) or estimated_usage(request, reply_text(data))
        return Completion(body=data, usage=usage)

    def stream(self, target: Target, request: InferenceRequest) -> OpenAIStream:
        return OpenAIStream(target)


class OpenAIStream:
    """Per-stream state: one Chunk per data frame, `[DONE]` ends it."""

    __slots__ = ("_target", "done", "finished")

    def __init__(self, target: Target) -> None:
        self._target = target
        self.done = False       # `[DONE]` seen: stop reading
        self.finished = False   # a finish_reason seen: a stream that then just ends is still whole

    def on_event(self, event: Event) -> Chunk | None:
        raw = event.data
        if raw == b"[DONE]":
            self.done = True
            return None
        try:
            data = _decode(raw)
        except msgspec.DecodeError:
            raise self._target.protocol_error("Upstream sent a malformed stream frame") from None
        if not isinstance(data, dict):
            return None
        if event.event == b"error" or ("error" in data and not data.get("choices")):
            raise self._target.payload_error(data)
        text = ""
        choices = data.get("choices")
        if choices:
            text = self._text(choices)
        usage = data.get("usage")
        return Chunk(data=data, raw=raw, text=text, usage=openai_usage(usage) if usage else None)

    def _text(self, choices: list[Any]) -> str:
        """Content (chat or legacy) plus tool-call argument fragments: what the reply cost to produce."""
        parts: list[str] = []
        for choice in choices:
            if not isinstance(choice, dict):
                continue
            if choice.get("finish_reason"):
                self.finished = True
            delta = choice.get("delta")
            if delta is None:
                text = choice.get("text")
                if isinstance(text, str) and text:
                    parts.append(text)
                continue
            content = delta.get("content")
            if isinstance(content, str) and content:
                parts.append(content)
            for call in delta.get("tool_calls") or ():
                args = (call.get("function") or {}).get("arguments")
                if isinstance(args, str) and args:
                    parts.append(args)
        return parts[0] if len(parts) == 1 else "".join(parts)

    def close(self) -> Chunk | None:
        """End of body without `[DONE]`: fine after a finish_reason, a broken stream otherwise."""
        if not self.finished:
            raise self._target.protocol_error("Upstream stream ended before the answer was complete")
        return None
