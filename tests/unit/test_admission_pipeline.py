"""Admission inside the pipeline: limits refuse before any provider call, and every exit path
returns the concurrency lease."""

from __future__ import annotations

import pytest

from adapters.memory.upstream import Scripted
from domain.errors import RateLimited, UpstreamFailed
from domain.inference import Caller, InferenceRequest, Operation
from domain.limits import key_subject
from domain.services.chat_completion import Reply, StreamReply
from domain.upstream import UpstreamError
from tests.unit.pipeline_kit import Kit, kit

PAYER = Caller(user_id=7, api_key_id=3)


def chat(*, stream: bool = False) -> InferenceRequest:
    return InferenceRequest(operation=Operation.CHAT, model="acme/chat-1", stream=stream, max_tokens=10,
                            body={"model": "acme/chat-1", "messages": [{"role": "user", "content": "hi"}]},
                            prompt_tokens_estimate=5)


async def slots(k: Kit) -> int:
    return await k.limiter.concurrency(key_subject(3), k.clock.now().timestamp())


async def test_an_admitted_reply_carries_the_rate_limit_headers_and_returns_its_slot() -> None:
    k = kit()
    reply = await k.pipeline(chat(), PAYER)
    assert isinstance(reply, Reply)
    assert reply.limit_headers["X-RateLimit-Limit-Requests"] == "250"
    assert int(reply.limit_headers["X-RateLimit-Remaining-Requests"]) < 250
    assert await slots(k) == 0


async def test_past_the_minute_limit_requests_are_refused_before_any_provider_call() -> None:
    k = kit()
    for _ in range(250):
        await k.pipeline(chat(), PAYER)
    calls = len(k.upstream.calls)
    with pytest.raises(RateLimited) as caught:
        await k.pipeline(chat(), PAYER)
    assert caught.value.message == "Rate limit exceeded. Limit: 250 RPM"
    assert caught.value.details["scope"] == "requests_per_minute"
    assert len(k.upstream.calls) == calls


async def test_failed_and_streamed_requests_return_their_slots() -> None:
    k = kit()
    for native in ("chat-1-a", "chat-1-b", "chat-1-g"):
        k.upstream.scripts[native] = Scripted(error=UpstreamError("down", status=500), )
    with pytest.raises(UpstreamFailed):
        await k.pipeline(chat(), PAYER)
    assert await slots(k) == 0
    k.upstream.scripts.clear()
    reply = await k.pipeline(chat(stream=True), PAYER)
    assert isinstance(reply, StreamReply)
    assert await slots(k) == 1  # the stream holds its slot until it ends
    await anext(reply.chunks)
    await reply.chunks.aclose()  # type: ignore[attr-defined]
    assert await slots(k) == 0
