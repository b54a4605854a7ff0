"""The pipeline's chat-history hook through memory twins: the session check comes before admission
and dispatch, a completed answer (a stream a client left included) is written behind, and requests
without `session_id` never touch chat history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.cache.chat_history import WriteBehindAssistantMessages
from adapters.memory.chat_history import MemoryChatHistoryStore
from adapters.memory.clock import FixedClock
from adapters.memory.upstream import Scripted
from domain.errors import AuthenticationRequired, NotFound, UpstreamFailed
from domain.inference import Caller, InferenceRequest, Operation
from domain.services.chat_completion import Reply, StreamReply
from domain.services.session_history import SessionHistory
from domain.upstream import UpstreamError
from tests.unit.pipeline_kit import Kit, kit

USER = Caller(user_id=7, api_key_id=3)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def chat(*, stream: bool = False) -> InferenceRequest:
    return InferenceRequest(operation=Operation.CHAT, model="chat-1", stream=stream,
                            body={"model": "chat-1", "messages": [{"role": "user", "content": "hi"}]},
                            prompt_tokens_estimate=5)


class Untouchable(MemoryChatHistoryStore):
    """A store that fails the test if a request without session_id reaches it."""

    async def session_exists(self, user_id: int, session_id: int) -> bool:
        raise AssertionError("chat history consulted without session_id")


def with_history(store: MemoryChatHistoryStore) -> tuple[Kit, WriteBehindAssistantMessages]:
    writer = WriteBehindAssistantMessages(store)
    return kit(history=SessionHistory(store, writer, FixedClock(T0))), writer


async def test_a_whole_answer_goes_to_the_session_through_the_write_behind() -> None:
    store = MemoryChatHistoryStore()
    k, writer = with_history(store)
    session = await store.create_session(7, title="t", model="m", now=T0)
    reply = await k.pipeline.inner(chat(), USER, session.id)
    assert isinstance(reply, Reply)
    assert store.messages == {}  # nothing before the answer is sent
    await reply.finish()
    assert store.messages == {}  # buffered, off the request path
    await writer.flush()
    [saved] = store.messages.values()
    assert (saved.role, saved.content, saved.model, saved.tokens) == ("assistant", "Hello there", "acme/chat-1", 2)
    assert store.sessions[session.id].model == "acme/chat-1"


async def test_a_stream_the_client_left_is_saved_with_what_was_sent() -> None:
    store = MemoryChatHistoryStore()
    k, writer = with_history(store)
    session = await store.create_session(7, title="t", model="m", now=T0)
    k.upstream.scripts["chat-1-a"] = Scripted(text="alpha beta gamma delta", usage=False)
    reply = await k.pipeline.inner(chat(stream=True), USER, session.id)
    assert isinstance(reply, StreamReply)
    assert (await anext(reply.chunks)).text == "alpha"
    await reply.chunks.aclose()  # type: ignore[attr-defined]
    [record] = k.log.records.values()
    assert record.status == "completed" and record.error_message == "client disconnected"
    await writer.flush()
    [saved] = store.messages.values()
    assert (saved.content, saved.tokens) == ("alpha", record.output_tokens)


async def test_the_session_is_checked_before_any_provider_and_failures_save_nothing() -> None:
    store = MemoryChatHistoryStore()
    k, writer = with_history(store)
    theirs = await store.create_session(8, title="t", model="m", now=T0)
    with pytest.raises(NotFound) as refused:
        await k.pipeline.inner(chat(), USER, theirs.id)
    assert refused.value.code == "session_not_found" and k.upstream.calls == []
    with pytest.raises(AuthenticationRequired):
        await k.pipeline.inner(chat(), Caller(client_ip="1.2.3.4"), theirs.id)
    assert k.upstream.calls == []
    mine = await store.create_session(7, title="t", model="m", now=T0)
    for native in ("chat-1-a", "chat-1-b", "chat-1-g"):
        k.upstream.scripts[native] = Scripted(error=UpstreamError("down", provider="x", status=500))
    with pytest.raises(UpstreamFailed):
        await k.pipeline.inner(chat(), USER, mine.id)
    await writer.flush()
    assert store.messages == {}


async def test_requests_without_session_id_never_touch_chat_history() -> None:
    store = Untouchable()
    k, writer = with_history(store)
    assert isinstance(await k.pipeline(chat(), USER), Reply)
    stream = await k.pipeline(chat(stream=True), USER)
    assert isinstance(stream, StreamReply)
    assert [c.text async for c in stream.chunks][:1] == ["Hello"]
    await writer.flush()
    assert store.messages == {}
