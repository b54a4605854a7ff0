"""The pipeline's routing, failover and request-record rules, driven through memory twins."""

from __future__ import annotations

import pytest

from adapters.memory.upstream import Scripted
from domain.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    UpstreamFailed,
    UpstreamRejected,
    UpstreamTimeout,
)
from domain.inference import Caller, InferenceRequest, Operation
from domain.services.chat_completion import Reply, StreamReply
from domain.upstream import UpstreamError
from tests.unit.pipeline_kit import kit

USER = Caller(user_id=7, api_key_id=3)


def chat(model: str = "acme/chat-1", *, stream: bool = False, provider: str | None = None) -> InferenceRequest:
    return InferenceRequest(operation=Operation.CHAT, model=model, stream=stream, provider=provider,
                            body={"model": model, "messages": [{"role": "user", "content": "hi"}]},
                            prompt_tokens_estimate=5)


async def test_the_primary_offer_serves_and_one_completed_record_is_written() -> None:
    k = kit()
    reply = await k.pipeline(chat(), USER)
    assert isinstance(reply, Reply)
    assert reply.provider.slug == "alpha" and reply.model.id == "acme/chat-1"
    [record] = k.log.records.values()
    assert (record.status, record.provider, record.user_id, record.api_key_id) == ("completed", "alpha", 7, 3)
    assert (record.input_tokens, record.output_tokens, record.usage_estimated) == (10, 2, False)


async def test_an_alias_resolves_to_its_canonical_model() -> None:
    reply = await kit().pipeline(chat("chat-1"), USER)
    assert isinstance(reply, Reply) and reply.model.id == "acme/chat-1"


async def test_an_unknown_model_is_a_404_with_close_matches_and_no_provider_call() -> None:
    k = kit()
    with pytest.raises(NotFound) as caught:
        await k.pipeline(chat("acme/chat-2"), USER)
    assert caught.value.code == "model_not_found"
    assert "acme/chat-1" in caught.value.details["suggestions"]
    assert k.upstream.calls == []
    assert [r.status for r in k.log.records.values()] == ["failed"]


@pytest.mark.parametrize("status", [401, 402, 403, 404, 408, 429, 500, 502, 503])
async def test_failover_moves_to_the_next_offer_on_retryable_statuses(status: int) -> None:
    k = kit()
    k.upstream.scripts["chat-1-a"] = Scripted(error=UpstreamError("nope", status=status, provider="alpha"))
    reply = await k.pipeline(chat(), USER)
    assert isinstance(reply, Reply) and reply.provider.slug == "beta"
    assert [c[0] for c in k.upstream.calls] == ["alpha", "beta"]
    assert next(iter(k.log.records.values())).provider == "beta"


@pytest.mark.parametrize("error", [UpstreamError("refused", provider="alpha"),
                                   UpstreamError("slow", timeout=True, provider="alpha")])
async def test_failover_moves_on_after_connection_errors_and_timeouts(error: UpstreamError) -> None:
    k = kit()
    k.upstream.scripts["chat-1-a"] = Scripted(error=error)
    reply = await k.pipeline(chat(), USER)
    assert reply.provider.slug == "beta"


@pytest.mark.parametrize("status", [400, 413, 422])
async def test_client_errors_go_back_to_the_client_without_failover(status: int) -> None:
    k = kit()
    k.upstream.scripts["chat-1-a"] = Scripted(error=UpstreamError("bad request", status=status, provider="alpha"))
    with pytest.raises(UpstreamRejected) as caught:
        await k.pipeline(chat(), USER)
    assert caught.value.status == status
    assert [c[0] for c in k.upstream.calls] == ["alpha"]


async def test_all_offers_failing_is_502_all_providers_failed() -> None:
    k = kit()
    for native in ("chat-1-a", "chat-1-b", "chat-1-g"):
        k.upstream.scripts[native] = Scripted(error=UpstreamError("down", status=500))
    with pytest.raises(UpstreamFailed, match="All providers failed"):
        await k.pipeline(chat(), USER)
    assert [r.status for r in k.log.records.values()] == ["failed"]


async def test_all_offers_timing_out_is_504() -> None:
    k = kit()
    for native in ("chat-1-a", "chat-1-b", "chat-1-g"):
        k.upstream.scripts[native] = Scripted(error=UpstreamError("slow", timeout=True))
    with pytest.raises(UpstreamTimeout):
        await k.pipeline(chat(), USER)


async def test_a_last_upstream_429_is_passed_on_with_retry_after_and_upstream_scope() -> None:
    k = kit()
    k.upstream.scripts["chat-1-a"] = Scripted(error=UpstreamError("down", status=500))
    k.upstream.scripts["chat-1-b"] = Scripted(error=UpstreamError("down", status=503))
    k.upstream.scripts["chat-1-g"] = Scripted(error=UpstreamError("slow down", status=429, retry_after="7"))
    with pytest.raises(RateLimited) as caught:
        await k.pipeline(chat(), USER)
    assert caught.value.retry_after == 7
    assert caught.value.details["headers"] == {"X-RateLimit-Scope": "upstream"}


async def test_an_open_breaker_is_skipped_and_all_open_still_tries_the_first() -> None:
    k = kit()
    for _ in range(5):
        await k.breakers.record("alpha", False)
    reply = await k.pipeline(chat(), USER)
    assert reply.provider.slug == "beta"
    for slug in ("beta", "gamma"):
        for _ in range(5):
            await k.breakers.record(slug, False)
    k.upstream.calls.clear()
    reply = await k.pipeline(chat(), USER)
    assert [c[0] for c in k.upstream.calls] == ["alpha"] and reply.provider.slug == "alpha"


async def test_the_provider_field_pins_one_provider() -> None:
    k = kit()
    reply = await k.pipeline(chat(provider="gamma"), USER)
    assert reply.provider.slug == "gamma" and [c[0] for c in k.upstream.calls] == ["gamma"]
    with pytest.raises(InvalidInput):
        await k.pipeline(chat("acme/solo", provider="alpha"), USER)


async def test_a_model_without_a_configured_provider_is_503() -> None:
    k = kit()
    k.upstream.unusable.add("beta")
    with pytest.raises(ServiceUnavailable) as caught:
        await k.pipeline(chat("acme/solo"), USER)
    assert caught.value.code == "model_unavailable"


async def test_anonymous_callers_reach_only_allowed_models() -> None:
    k = kit(anonymous_models=frozenset({"acme/solo"}))
    with pytest.raises(Forbidden, match="Model not available for anonymous use"):
        await k.pipeline(chat(), Caller(client_ip="1.2.3.4"))
    reply = await k.pipeline(chat("acme/solo"), Caller(client_ip="1.2.3.4"))
    assert reply.provider.slug == "beta"
    assert [r.is_anonymous for r in k.log.records.values()] == [True, True]


async def _drain(reply: StreamReply) -> list[str]:
    return [c.text async for c in reply.chunks]


async def test_a_stream_fails_over_before_its_first_chunk() -> None:
    k = kit()
    k.upstream.scripts["chat-1-a"] = Scripted(error=UpstreamError("down", status=503))
    reply = await k.pipeline(chat(stream=True), USER)
    assert isinstance(reply, StreamReply) and reply.provider.slug == "beta"
    assert "".join(await _drain(reply)) == "Hello there"
    [record] = k.log.records.values()
    assert (record.status, record.provider, record.output_tokens) == ("completed", "beta", 2)
    assert record.time_to_first_token_ms is not None


async def test_a_stream_broken_after_its_first_chunk_does_not_fail_over() -> None:
    k = kit()
    k.upstream.scripts["chat-1-a"] = Scripted(text="one two three", fail_after_chunks=1)
    reply = await k.pipeline(chat(stream=True), USER)
    seen = []
    with pytest.raises(UpstreamError):
        async for chunk in reply.chunks:
            seen.append(chunk.text)
    assert seen == ["one"]
    assert [c[0] for c in k.upstream.calls] == ["alpha"]
    [record] = k.log.records.values()
    assert record.status == "failed" and record.usage_estimated


async def test_a_client_leaving_mid_stream_settles_the_request_with_estimated_usage() -> None:
    k = kit()
    k.upstream.scripts["chat-1-a"] = Scripted(text="alpha beta gamma delta", usage=False)
    reply = await k.pipeline(chat(stream=True), USER)
    first = await anext(reply.chunks)
    assert first.text == "alpha"
    await reply.chunks.aclose()  # type: ignore[attr-defined]
    [record] = k.log.records.values()
    assert record.status == "completed" and record.error_message == "client disconnected"
    assert record.usage_estimated and record.output_tokens >= 1


async def test_missing_usage_is_estimated_and_marked() -> None:
    k = kit()
    k.upstream.scripts["chat-1-a"] = Scripted(text="a b c", usage=False)
    reply = await k.pipeline(chat(stream=True), USER)
    await _drain(reply)
    [record] = k.log.records.values()
    assert record.usage_estimated and record.input_tokens == 5


async def test_a_whole_answer_is_settled_by_finish_once_after_it_is_returned() -> None:
    k = kit()
    reply = await k.pipeline.inner(chat(), USER)
    assert isinstance(reply, Reply) and k.log.records == {}  # the client is not kept waiting
    await reply.finish()
    await reply.finish()
    assert [r.status for r in k.log.records.values()] == ["completed"]
