"""The chat history store behaves the same on memory, SQLite and PostgreSQL: ordering, owner scoping,
soft delete, the dedup window (fixed times), literal search, one-statement aggregates, feedback."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.chat_history import MemoryChatHistoryStore
from adapters.postgres.chat_history import PostgresChatHistoryStore
from adapters.postgres.engine import create_engine
from adapters.postgres.uow import PostgresUnitOfWorkFactory
from domain.accounts import NewUser
from domain.chat_history import (
    DEDUP_WINDOW,
    AssistantMessage,
    FeedbackChanges,
    FeedbackFilter,
    FeedbackType,
    NewFeedback,
    NewMessage,
    feedback_stats,
)
from ports.chat_history import ChatHistoryStore

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


class World:
    def __init__(self, store: ChatHistoryStore, new_user: object) -> None:
        self.store = store
        self._new_user = new_user

    async def user(self) -> int:
        return await self._new_user()  # type: ignore[operator, no-any-return]

    async def post(self, user: int, session: int, *messages: NewMessage, at: datetime = T0) -> list[int]:
        saved = await self.store.add_messages(user, session, list(messages), now=at, dedup_since=at - DEDUP_WINDOW)
        assert saved is not None
        return [s.message.id for s in saved if s.message is not None]


@pytest.fixture
async def world(database_url: str | None) -> AsyncIterator[World]:
    if database_url is None:
        ids = iter(range(1, 10_000))

        async def memory_user() -> int:
            return next(ids)

        yield World(MemoryChatHistoryStore(), memory_user)
        return
    engine = create_engine(database_url)
    uow = PostgresUnitOfWorkFactory(engine)

    async def sql_user() -> int:
        async with uow() as u:
            t = uuid.uuid4().hex[:12]
            user = await u.users.add(NewUser(email=f"chat-{t}@example.com", username=f"c_{t}"), now=T0)
            await u.commit()
        return user.id

    try:
        yield World(PostgresChatHistoryStore(engine), sql_user)
    finally:
        await engine.dispose()


def msg(content: str, role: str = "user", **kw: object) -> NewMessage:
    return NewMessage(role=role, content=content, **kw)  # type: ignore[arg-type]


async def test_sessions_list_newest_first_only_the_owners_active_ones(world: World) -> None:
    s, ada, bob = world.store, await world.user(), await world.user()
    a = await s.create_session(ada, title="a", model="m", now=T0)
    b = await s.create_session(ada, title="b", model="m", now=T0)                      # same time: id DESC
    c = await s.create_session(ada, title="c", model="m", now=T0 - timedelta(hours=1))
    other = await s.create_session(bob, title="x", model="m", now=T0 + timedelta(hours=1))
    assert (a.user_id, a.title, a.model, a.is_active, a.created_at, a.updated_at) == (ada, "a", "m", True, T0, T0)
    assert [x.id for x in await s.list_sessions(ada, limit=10, offset=0)] == [b.id, a.id, c.id]
    assert [x.id for x in await s.list_sessions(ada, limit=1, offset=1)] == [a.id]
    assert await s.get_session(ada, other.id) is None and await s.get_session(bob, other.id) == other
    assert await s.delete_session(ada, b.id, now=T0 + timedelta(minutes=1))
    assert not await s.delete_session(ada, b.id, now=T0 + timedelta(minutes=2))           # already deleted
    assert not await s.delete_session(ada, other.id, now=T0)                                # not hers
    assert [x.id for x in await s.list_sessions(ada, limit=10, offset=0)] == [a.id, c.id]
    for gone in (b.id, other.id):
        assert await s.get_session(ada, gone) is None and not await s.session_exists(ada, gone)
        assert await s.session_messages(ada, gone) is None
        assert await s.update_session(ada, gone, title="t", model=None, now=T0) is None
        assert await s.add_messages(ada, gone, [msg("hi")], now=T0, dedup_since=T0) is None


async def test_update_sets_given_fields_and_always_bumps_updated_at(world: World) -> None:
    s, ada = world.store, await world.user()
    a = await s.create_session(ada, title="a", model="m", now=T0)
    later = T0 + timedelta(minutes=3)
    moved = await s.update_session(ada, a.id, title=None, model=None, now=later)
    assert moved is not None and (moved.title, moved.model, moved.updated_at, moved.created_at) == ("a", "m", later, T0)
    renamed = await s.update_session(ada, a.id, title="new", model="m2", now=later)
    assert renamed is not None and (renamed.title, renamed.model) == ("new", "m2")


async def test_messages_in_order_dedup_within_five_minutes_and_session_bookkeeping(world: World) -> None:
    s, ada = world.store, await world.user()
    a = await s.create_session(ada, title="a", model="m", now=T0)
    [first] = await world.post(ada, a.id, msg("hello", tokens=3, model="gpt"), at=T0)
    [again] = await world.post(ada, a.id, msg("hello"), at=T0 + timedelta(minutes=4))        # a retry: deduped
    assert again == first
    session = await s.get_session(ada, a.id)
    assert session is not None and (session.updated_at, session.model) == (T0, "gpt")  # dedup bumps nothing
    [other_role] = await world.post(ada, a.id, msg("hello", role="assistant"), at=T0 + timedelta(minutes=4))
    [late] = await world.post(ada, a.id, msg("hello"), at=T0 + timedelta(minutes=5, seconds=1))  # window passed
    assert len({first, other_role, late}) == 3
    session, messages = await s.session_messages(ada, a.id)  # type: ignore[misc]
    assert [m.id for m in messages] == [first, other_role, late]
    assert (messages[0].role, messages[0].content, messages[0].model, messages[0].tokens, messages[0].created_at) == (
        "user", "hello", "gpt", 3, T0)
    assert session.updated_at == T0 + timedelta(minutes=5, seconds=1) and session.model == "gpt"


async def test_a_batch_dedups_against_its_own_earlier_items(world: World) -> None:
    s, ada = world.store, await world.user()
    a = await s.create_session(ada, title="a", model="m", now=T0)
    saved = await s.add_messages(ada, a.id, [msg("x"), msg("y"), msg("x")], now=T0, dedup_since=T0 - DEDUP_WINDOW)
    assert saved is not None and [i.deduplicated for i in saved] == [False, False, True]
    assert saved[0].message == saved[2].message
    assert len((await s.session_messages(ada, a.id))[1]) == 2  # type: ignore[index]
    assert await s.add_messages(ada, a.id, [], now=T0, dedup_since=T0) == []


async def test_twenty_concurrent_identical_posts_store_one_message(world: World) -> None:
    s, ada = world.store, await world.user()
    a = await s.create_session(ada, title="a", model="m", now=T0)
    ids = await asyncio.gather(*(world.post(ada, a.id, msg("same"), at=T0) for _ in range(20)))
    assert len({i for [i] in ids}) == 1
    assert len((await s.session_messages(ada, a.id))[1]) == 1  # type: ignore[index]


async def test_search_is_owner_scoped_case_insensitive_literal_and_lists_each_session_once(world: World) -> None:
    s, ada, bob = world.store, await world.user(), await world.user()
    by_title = await s.create_session(ada, title="Weekend PLANS", model="m", now=T0)
    by_both = await s.create_session(ada, title="plans again", model="m", now=T0 + timedelta(minutes=1))
    await world.post(ada, by_both.id, msg("more plans"), msg("and plans"), at=T0 + timedelta(minutes=1))
    percent = await s.create_session(ada, title="t", model="m", now=T0 - timedelta(minutes=1))
    await world.post(ada, percent.id, msg("100% sure"), msg(r"a_b and c\d"), at=T0 - timedelta(minutes=1))
    plain = await s.create_session(ada, title="u", model="m", now=T0 - timedelta(minutes=2))
    await world.post(ada, plain.id, msg("100 sure, aXb, cd"), at=T0 - timedelta(minutes=2))
    gone = await s.create_session(ada, title="plans deleted", model="m", now=T0)
    await s.delete_session(ada, gone.id, now=T0)
    theirs = await s.create_session(bob, title="bob", model="m", now=T0)
    await world.post(bob, theirs.id, msg("plans of bob"), at=T0)

    assert [x.id for x in await s.search(ada, "plans", limit=10)] == [by_both.id, by_title.id]
    assert [x.id for x in await s.search(ada, "PLANS", limit=1)] == [by_both.id]
    assert [x.id for x in await s.search(ada, "%", limit=10)] == [percent.id]
    assert [x.id for x in await s.search(ada, "_", limit=10)] == [percent.id]
    assert [x.id for x in await s.search(ada, "\\", limit=10)] == [percent.id]
    assert [x.id for x in await s.search(ada, "a_b", limit=10)] == [percent.id]
    assert [x.id for x in await s.search(ada, "", limit=10)] == [by_both.id, by_title.id, percent.id, plain.id]
    assert await s.search(bob, "weekend", limit=10) == []


async def test_stats_count_active_sessions_and_their_messages_only(world: World) -> None:
    s, ada, bob = world.store, await world.user(), await world.user()
    assert (await s.stats(ada)).total_tokens == 0 and (await s.stats(ada)).total_messages == 0
    a = await s.create_session(ada, title="a", model="m", now=T0)
    await world.post(ada, a.id, msg("one", tokens=5), msg("two", tokens=7), at=T0)
    await s.create_session(ada, title="empty", model="m", now=T0)
    gone = await s.create_session(ada, title="gone", model="m", now=T0)
    await world.post(ada, gone.id, msg("lost", tokens=100), at=T0)
    await s.delete_session(ada, gone.id, now=T0)
    theirs = await s.create_session(bob, title="b", model="m", now=T0)
    await world.post(bob, theirs.id, msg("bob", tokens=1000), at=T0)
    stats = await s.stats(ada)
    assert (stats.total_sessions, stats.total_messages, stats.total_tokens) == (2, 2, 12)


async def test_assistant_messages_land_in_their_sessions_and_move_them(world: World) -> None:
    s, ada = world.store, await world.user()
    a = await s.create_session(ada, title="a", model="m", now=T0)
    b = await s.create_session(ada, title="b", model="m", now=T0)
    later = T0 + timedelta(seconds=9)
    await s.add_assistant_messages([
        AssistantMessage(session_id=a.id, content="hi there", model="openai/gpt-4o", tokens=4, created_at=later),
        AssistantMessage(session_id=b.id, content="", model="x/y", tokens=0, created_at=T0)])
    session, [answer] = await s.session_messages(ada, a.id)  # type: ignore[misc]
    assert (answer.role, answer.content, answer.model, answer.tokens, answer.created_at) == (
        "assistant", "hi there", "openai/gpt-4o", 4, later)
    assert (session.updated_at, session.model) == (later, "openai/gpt-4o")


async def test_feedback_is_owner_scoped_filtered_grouped_updated_and_deleted(world: World) -> None:
    s, ada, bob = world.store, await world.user(), await world.user()
    a = await s.create_session(ada, title="a", model="m", now=T0)
    [m1] = await world.post(ada, a.id, msg("answer", role="assistant"), at=T0)
    assert await s.message_owned(ada, m1, None) and await s.message_owned(ada, m1, a.id)
    assert not await s.message_owned(bob, m1, None) and not await s.message_owned(ada, m1, a.id + 999)
    rows = []
    for i, (kind, rating, model) in enumerate([(FeedbackType.THUMBS_UP, 5, "m1"), (FeedbackType.THUMBS_UP, 4, "m1"),
                                               (FeedbackType.THUMBS_UP, None, None),
                                               (FeedbackType.THUMBS_DOWN, None, "m1")]):
        rows.append(await s.add_feedback(NewFeedback(
            user_id=ada, feedback_type=kind, session_id=a.id, message_id=m1, rating=rating, model=model,
            metadata={"i": i}, comment="c"), now=T0 + timedelta(seconds=i)))
    await s.add_feedback(NewFeedback(user_id=bob, feedback_type=FeedbackType.REGENERATE), now=T0)
    first = rows[0]
    assert (first.user_id, first.session_id, first.message_id, first.feedback_type, first.rating, first.comment,
            first.model, first.metadata, first.created_at) == (ada, a.id, m1, "thumbs_up", 5, "c", "m1", {"i": 0}, T0)
    listed = await s.list_feedback(ada, FeedbackFilter(), limit=None)
    assert [f.id for f in listed] == [r.id for r in reversed(rows)]
    assert [f.id for f in await s.list_feedback(ada, FeedbackFilter(), limit=2, offset=1)] == [rows[2].id, rows[1].id]
    assert [f.id for f in await s.list_feedback(ada, FeedbackFilter(feedback_type="thumbs_down"), limit=9)] == [
        rows[3].id]
    assert await s.list_feedback(ada, FeedbackFilter(feedback_type="love"), limit=9) == []
    assert len(await s.list_feedback(ada, FeedbackFilter(model="m1", session_id=a.id), limit=9)) == 3

    stats = feedback_stats(await s.feedback_groups(ada, since=T0, model=None), days=30)
    assert stats == {"total_feedback": 4, "thumbs_up": 3, "thumbs_down": 1, "regenerate": 0, "thumbs_up_rate": 75.0,
                     "thumbs_down_rate": 25.0, "average_rating": 4.5,
                     "by_model": {"m1": {"thumbs_up": 2, "thumbs_down": 1, "regenerate": 0, "total": 3},
                                  "unknown": {"thumbs_up": 1, "thumbs_down": 0, "regenerate": 0, "total": 1}},
                     "period_days": 30}
    assert feedback_stats(await s.feedback_groups(ada, since=T0 + timedelta(seconds=2), model="m1"), days=1)[
        "total_feedback"] == 1

    later = T0 + timedelta(hours=1)
    same = await s.update_feedback(ada, first.id, FeedbackChanges(), now=later)
    assert same is not None and (same.feedback_type, same.rating, same.comment, same.updated_at) == (
        "thumbs_up", 5, "c", later)
    changed = await s.update_feedback(ada, first.id, FeedbackChanges(
        feedback_type=FeedbackType.REGENERATE, rating=1, comment="meh"), now=later)
    assert changed is not None and (changed.feedback_type, changed.rating, changed.comment) == ("regenerate", 1, "meh")
    assert await s.update_feedback(bob, first.id, FeedbackChanges(rating=2), now=later) is None
    assert not await s.delete_feedback(bob, first.id)
    assert await s.delete_feedback(ada, first.id) and not await s.delete_feedback(ada, first.id)
