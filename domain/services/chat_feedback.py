"""Feedback on answers (#1694-#1696, #1701, #1703, #1705): always the caller's own rows."""

from __future__ import annotations

from typing import Any

from domain import not_found
from domain.audit import AuditEvent
from domain.chat_history import (
    FEEDBACK_SUBMITTED,
    FeedbackChanges,
    FeedbackFilter,
    MessageFeedback,
    NewFeedback,
    feedback_stats,
    feedback_window_start,
)
from domain.services.chat_sessions import record_event
from ports.chat_history import ChatHistoryStore
from ports.clock import Clock
from ports.uow import UnitOfWorkFactory


class SubmitFeedback:
    def __init__(self, store: ChatHistoryStore, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._store = store
        self._uow = uow
        self._clock = clock

    async def __call__(self, new: NewFeedback) -> MessageFeedback:
        if new.session_id is not None and not await self._store.session_exists(new.user_id, new.session_id):
            raise not_found.chat_session()
        if new.message_id is not None and not await self._store.message_owned(new.user_id, new.message_id,
                                                                                new.session_id):
            raise not_found.message()
        now = self._clock.now()
        row = await self._store.add_feedback(new, now=now)
        await record_event(self._uow, AuditEvent(
            event_type=FEEDBACK_SUBMITTED, created_at=now, user_id=new.user_id,
            details={"feedback_id": row.id, "feedback_type": row.feedback_type, "session_id": row.session_id,
                     "message_id": row.message_id}))
        return row


class ListFeedback:
    def __init__(self, store: ChatHistoryStore) -> None:
        self._store = store

    async def __call__(self, user_id: int, where: FeedbackFilter, *, limit: int = 50,
                       offset: int = 0) -> list[MessageFeedback]:
        return await self._store.list_feedback(user_id, where, limit=limit, offset=offset)


class ListSessionFeedback:
    def __init__(self, store: ChatHistoryStore) -> None:
        self._store = store

    async def __call__(self, user_id: int, session_id: int) -> list[MessageFeedback]:
        if not await self._store.session_exists(user_id, session_id):
            raise not_found.chat_session()
        return await self._store.list_feedback(user_id, FeedbackFilter(session_id=session_id), limit=None)


class GetFeedbackStats:
    def __init__(self, store: ChatHistoryStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def __call__(self, user_id: int, *, model: str | None = None, days: int = 30) -> dict[str, Any]:
        since = feedback_window_start(self._clock.now(), days)
        return feedback_stats(await self._store.feedback_groups(user_id, since=since, model=model), days=days)


class UpdateFeedback:
    def __init__(self, store: ChatHistoryStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def __call__(self, user_id: int, feedback_id: int, changes: FeedbackChanges) -> MessageFeedback:
        row = await self._store.update_feedback(user_id, feedback_id, changes, now=self._clock.now())
        if row is None:
            raise not_found.feedback()
        return row


class DeleteFeedback:
    def __init__(self, store: ChatHistoryStore) -> None:
        self._store = store

    async def __call__(self, user_id: int, feedback_id: int) -> None:
        if not await self._store.delete_feedback(user_id, feedback_id):
            raise not_found.feedback()
