"""The Anthropic Messages wire kind: requests are translated from the OpenAI shape (or passed
through untouched when the client already spoke Anthropic), answers come back in OpenAI shape so
the pipeline and every codec see one format."""

from __future__ import annotations

import time
from typing import Any

import msgspec

from adapters.providers.sse import Event
from adapters.providers.target import Target
from adapters.providers.translate import finish_reason, from_messages_response, to_messages_request
from adapters.providers.usage import anthropic_usage, estimated_usage, reply_text
from domain.catalog import Offer
from domain.inference import Chunk, Completion, InferenceRequest, Operation
from domain.upstream import UpstreamError

ANTHROPIC_VERSION = "2023-06-01"
_decode = msgspec.json.decode
_encode = msgspec.json.encode


class AnthropicKind:
    def headers(self, key: str) -> dict[str, str]:
        return {"x-api-key": key, "anthropic-version": ANTHROPIC_VERSION, "Content-Type": "application/json"}

    def prepare(self, target: Target, offer: Offer, request: InferenceRequest, stream: bool) -> tuple[str, bytes]:
        if request.operation is not Operation.CHAT:
            # 404 (not 400): another offer of the model may serve this operation, so fail over.
            raise UpstreamError(f"Operation '{request.operation.value}' is not supported by this provider",
                                status=404, provider=target.slug)
        if request.anthropic_body is not None:  # the client spoke Anthropic: keep every field it sent
            body = dict(request.anthropic_body)
            body["model"] = offer.native_id
            if stream:
                body["stream"] = True
            else:
                body.pop("stream", None)
        else:
            body = to_messages_request(request.body, offer.native_id, max_tokens=request.max_tokens, stream=stream)
        return target.base + "/messages", _encode(body)

    def completion(self, target: Target, data: dict[str, Any], request: InferenceRequest) -> Completion:
        if data.get("type") == "error":
            raise target.payload_error(data)
        body = from_messages_response(data)
        usage = anthropic_usage(data.get("usage")) or estimated_usage(request, reply_text(body))
        return Completion(body=body, usage=usage)

    def stream(self, target: Target, request: InferenceRequest) -> AnthropicStream:
        return AnthropicStream(target)


class AnthropicStream:
    """Messages events -> `chat.completion.chunk` dicts. Usage arrives in two halves (input on
    message_start, output on message_delta) and is emitted once, on a final usage-only chunk."""

    __slots__ = ("_created", "_id", "_model", "_target", "_tools", "_usage", "done", "finished")

    def __init__(self, target: Target) -> None:
        self._target = target
        self._id = ""
        self._model = ""
        self._created = int(time.time())
        self._tools: dict[Any, int] = {}  # content block index -> OpenAI tool_calls index
        self._usage: dict[str, Any] | None = None
        self.done = False      # message_stop seen
        self.finished = False  # stop_reason seen

    def on_event(self, event: Event) -> Chunk | None:
        try:
            data = _decode(event.data)
        except msgspec.DecodeError:
            raise self._target.protocol_error("Upstream sent a malformed stream event") from None
        if not isinstance(data, dict):
            return None
        kind = data.get("type") or event.event.decode()
        if kind == "content_block_delta":
            delta = data.get("delta") or {}
            if delta.get("type") == "text_delta":
                text = delta.get("text") or ""
                return self._chunk({"content": text}, text=text)
            if delta.get("type") == "input_json_delta":
                tool = self._tools.get(data.get("index"))
                part = delta.get("partial_json") or ""
                if tool is None or not part:
                    return None
                return self._chunk({"tool_calls": [{"index": tool, "function": {"arguments": part}}]}, text=part)
            return None  # thinking / signature / citations deltas have no OpenAI chunk equivalent
        if kind == "content_block_start":
            return self._block_start(data)
        if kind == "message_start":
            message = data.get("message") or {}
            self._id = message.get("id") or ""
            self._model = message.get("model") or ""
            self._merge_usage(message.get("usage"))
            return self._chunk({"role": "assistant", "content": ""})
        if kind == "message_delta":
            self._merge_usage(data.get("usage"))
            stop = (data.get("delta") or {}).get("stop_reason")
            if stop is None:
                return None
            self.finished = True
            return self._chunk({}, finish=finish_reason(stop))
        if kind == "message_stop":
            self.done = True
            return self._usage_chunk()
        if kind == "error":
            raise self._target.payload_error(data)
        return None  # ping, content_block_stop, unknown future events

    def close(self) -> Chunk | None:
        """End of body without message_stop: whole if the stop reason came, broken otherwise."""
        if not self.finished:
            raise self._target.protocol_error("Upstream stream ended before the answer was complete")
        return self._usage_chunk()

    def _block_start(self, data: dict[str, Any]) -> Chunk | None:
        block = data.get("content_block") or {}
        if block.get("type") == "tool_use":
            tool = self._tools[data.get("index")] = len(self._tools)
            call = {"index": tool, "id": block.get("id") or "", "type": "function",
                    "function": {"name": block.get("name") or "", "arguments": ""}}
            return self._chunk({"tool_calls": [call]})
        text = block.get("text") if block.get("type") == "text" else None
        return self._chunk({"content": text}, text=text) if text else None

    def _merge_usage(self, usage: Any) -> None:
        if isinstance(usage, dict):
            self._usage = {**self._usage, **usage} if self._usage else dict(usage)

    def _chunk(self, delta: dict[str, Any], *, text: str = "", finish: str | None = None) -> Chunk:
        data = {"id": self._id, "object": "chat.completion.chunk", "created": self._created, "model": self._model,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
        return Chunk(data=data, text=text)

    def _usage_chunk(self) -> Chunk | None:
        usage = anthropic_usage(self._usage)
        if usage is None:
            return None
        self._usage = None  # emitted once
        totals = {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
                  "total_tokens": usage.total_tokens}
        data = {"id": self._id, "object": "chat.completion.chunk", "created": self._created, "model": self._model,
                "choices": [], "usage": totals}
        return Chunk(data=data, usage=usage)
