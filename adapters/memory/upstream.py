"""A scripted in-process provider, keyed by native model id: the unit tests' upstream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from domain.catalog import Offer, Provider
from domain.inference import Chunk, Completion, InferenceRequest, Usage
from domain.upstream import UpstreamError


@dataclass
class Scripted:
    text: str = "Hello there"
    error: UpstreamError | None = None       # raised before any output
    fail_after_chunks: int | None = None      # stream: raise after this many chunks
    usage: bool = True                        # report usage
    prompt_tokens: int = 10
    delay_s: float = 0.0                      # wait before answering (concurrency tests)


@dataclass
class ScriptedUpstream:
    scripts: dict[str, Scripted] = field(default_factory=dict)   # native_id -> behaviour
    unusable: set[str] = field(default_factory=set)               # provider slugs without credentials
    calls: list[tuple[str, str]] = field(default_factory=list)   # (provider, native_id) in call order

    def usable(self, provider: Provider) -> bool:
        return provider.slug not in self.unusable

    def _script(self, provider: Provider, offer: Offer) -> Scripted:
        self.calls.append((provider.slug, offer.native_id))
        return self.scripts.get(f"{provider.slug}:{offer.native_id}") or self.scripts.get(offer.native_id) or Scripted()

    async def infer(self, provider: Provider, offer: Offer, request: InferenceRequest) -> Completion:
        s = self._script(provider, offer)
        if s.delay_s:
            await asyncio.sleep(s.delay_s)
        if s.error is not None:
            raise s.error
        words = len(s.text.split())
        body = {"id": "chatcmpl-memory", "object": "chat.completion", "model": offer.native_id,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": s.text},
                             "finish_reason": "stop"}]}
        usage = Usage(prompt_tokens=s.prompt_tokens, completion_tokens=words, estimated=not s.usage)
        if s.usage:
            body["usage"] = {"prompt_tokens": s.prompt_tokens, "completion_tokens": words,
                             "total_tokens": s.prompt_tokens + words}
        return Completion(body=body, usage=usage)

    async def infer_stream(self, provider: Provider, offer: Offer, request: InferenceRequest) -> AsyncIterator[Chunk]:
        s = self._script(provider, offer)
        if s.error is not None:
            raise s.error
        words = s.text.split()
        for i, word in enumerate(words):
            if s.fail_after_chunks is not None and i >= s.fail_after_chunks:
                raise UpstreamError("connection reset mid-stream", provider=provider.slug)
            piece = word if i == 0 else " " + word
            yield Chunk(data={"object": "chat.completion.chunk", "choices": [
                {"index": 0, "delta": {"content": piece}, "finish_reason": None}]}, text=piece)
        if s.usage:
            usage = Usage(prompt_tokens=s.prompt_tokens, completion_tokens=len(words))
            yield Chunk(data={"object": "chat.completion.chunk", "choices": [], "usage": {
                "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
                "total_tokens": usage.total_tokens}}, usage=usage)
