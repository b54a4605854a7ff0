"""Memory twins of the chat history store and the throughput figures (same contract suite)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Mapping
from datetime import datetime

import msgspec

from domain.chat_history import (
    AssistantMessage,
    ChatMessage,
    ChatSession,
    ChatStats,
    FeedbackChanges,
    FeedbackFilter,
    FeedbackGroup,
    MessageFeedback,
    NewFeedback,
    NewMessage,
    SavedMessage,
    matches,
)
from domain.requests import RequestRecord
from domain.throughput import Throughput, UsagePair

replace = msgspec.structs.replace


class MemoryChatHistoryStore:
    def __init__(self) -> None:
        self.sessions: dict[int, ChatSession] = {}
        self.messages: dict[int, ChatMessage] = {}
        self.feedback: dict[int, MessageFeedback] = {}
        self._ids = {name: itertools.count(1) for name in ("sessions", "messages", "feedback")}
        self._lock = asyncio.Lock()

    def _owned(self, user_id: int, session_id: int) -> ChatSession | None:
        s = self.sessions.get(session_id)
        return s if s is not None and s.user_id == user_id and s.is_active else None

    def _active(self, user_id: int) -> list[ChatSession]:
        found = [s for s in self.sessions.values() if s.user_id == user_id and s.is_active]
        return sorted(found, key=lambda s: (s.updated_at, s.id), reverse=True)

    def _of(self, session_id: int) -> list[ChatMessage]:
        return sorted((m for m in self.messages.values() if m.session_id == session_id),
                      key=lambda m: (m.created_at, m.id))

    async def create_session(self, user_id: int, *, title: str, model: str, now: datetime) -> ChatSession:
        session = ChatSession(id=next(self._ids["sessions"]), user_id=user_id, title=title, model=model,
                              is_active=True, created_at=now, updated_at=now)
        self.sessions[session.id] = session
        return session

    async def list_sessions(self, user_id: int, *, limit: int, offset: int) -> list[ChatSession]:
        return self._active(user_id)[offset:offset + limit]

    async def get_session(self, user_id: int, session_id: int) -> ChatSession | None:
        return self._owned(user_id, session_id)

    async def session_messages(self, user_id: int, session_id: int) -> tuple[ChatSession, list[ChatMessage]] | None:
        session = self._owned(user_id, session_id)
        return (session, self._of(session_id)) if session is not None else None

    async def session_exists(self, user_id: int, session_id: int) -> bool:
        return self._owned(user_id, session_id) is not None

    async def update_session(self, user_id: int, session_id: int, *, title: str | None, model: str | None,
                             now: datetime) -> ChatSession | None:
        session = self._owned(user_id, session_id)
        if session is None:
            return None
        session = replace(session, title=title if title is not None else session.title,
                          model=model if model is not None else session.model, updated_at=now)
        self.sessions[session_id] = session
        return session

    async def delete_session(self, user_id: int, session_id: int, *, now: datetime) -> bool:
        session = self._owned(user_id, session_id)
        if session is None:
            return False
        self.sessions[session_id] = replace(session, is_active=False, updated_at=now)
        return True

    async def add_messages(self, user_id: int, session_id: int, messages: list[NewMessage], *, now: datetime,
                           dedup_since: datetime) -> list[SavedMessage] | None:
        async with self._lock:
            session = self._owned(user_id, session_id)
            if session is None:
                return None
            saved: list[SavedMessage] = []
            model: str | None = None
            inserted = False
            for new in messages:
                twins = [m for m in self._of(session_id)
                         if m.role == new.role and m.content == new.content and m.created_at >= dedup_since]
                if twins:
                    saved.append(SavedMessage(message=twins[-1], deduplicated=True))
                    continue
                message = ChatMessage(id=next(self._ids["messages"]), session_id=session_id, role=new.role,
                                      content=new.content, model=new.model, tokens=new.tokens, created_at=now)
                self.messages[message.id] = message
                saved.append(SavedMessage(message=message))
                inserted = True
                model = new.model or model
            if inserted:
                self.sessions[session_id] = replace(session, updated_at=now, model=model or session.model)
            return saved

    async def add_assistant_messages(self, messages: list[AssistantMessage]) -> None:
        for m in messages:
            session = self.sessions.get(m.session_id)
            if session is None:
                continue  # the session row is gone (its user was deleted): as the foreign key refuses it
            message = ChatMessage(id=next(self._ids["messages"]), session_id=m.session_id, role="assistant",
                                  content=m.content, model=m.model, tokens=m.tokens, created_at=m.created_at)
            self.messages[message.id] = message
            self.sessions[m.session_id] = replace(session, updated_at=m.created_at, model=m.model)

    async def search(self, user_id: int, query: str, *, limit: int) -> list[ChatSession]:
        found = [s for s in self._active(user_id)
                 if matches(query, s.title) or any(matches(query, m.content) for m in self._of(s.id))]
        return found[:limit]

    async def stats(self, user_id: int) -> ChatStats:
        sessions = self._active(user_id)
        messages = [m for s in sessions for m in self._of(s.id)]
        return ChatStats(total_sessions=len(sessions), total_messages=len(messages),
                         total_tokens=sum(m.tokens for m in messages))

    async def message_owned(self, user_id: int, message_id: int, session_id: int | None) -> bool:
        message = self.messages.get(message_id)
        if message is None or (session_id is not None and message.session_id != session_id):
            return False
        return self._owned(user_id, message.session_id) is not None

    async def add_feedback(self, new: NewFeedback, *, now: datetime) -> MessageFeedback:
        row = MessageFeedback(id=next(self._ids["feedback"]), user_id=new.user_id, session_id=new.session_id,
                              message_id=new.message_id, feedback_type=new.feedback_type.value, rating=new.rating,
                              comment=new.comment, model=new.model, metadata=new.metadata, created_at=now,
                              updated_at=now)
        self.feedback[row.id] = row
        return row

    def _feedback_of(self, user_id: int, keep: Callable[[MessageFeedback], bool]) -> list[MessageFeedback]:
        rows = [f for f in self.feedback.values() if f.user_id == user_id and keep(f)]
        return sorted(rows, key=lambda f: (f.created_at, f.id), reverse=True)

    async def list_feedback(self, user_id: int, where: FeedbackFilter, *, limit: int | None,
                            offset: int = 0) -> list[MessageFeedback]:
        rows = self._feedback_of(user_id, lambda f: (
            (where.feedback_type is None or f.feedback_type == where.feedback_type)
            and (where.session_id is None or f.session_id == where.session_id)
            and (where.model is None or f.model == where.model)))
        return rows[offset:] if limit is None else rows[offset:offset + limit]

    async def feedback_groups(self, user_id: int, *, since: datetime, model: str | None) -> list[FeedbackGroup]:
        groups: dict[tuple[str | None, str], list[MessageFeedback]] = {}
        for f in self._feedback_of(user_id, lambda f: f.created_at >= since and (model is None or f.model == model)):
            groups.setdefault((f.model, f.feedback_type), []).append(f)
        return [FeedbackGroup(model=m, feedback_type=t, count=len(rows),
                              rating_sum=sum(r.rating for r in rows if r.rating is not None),
                              rating_count=sum(1 for r in rows if r.rating is not None))
                for (m, t), rows in groups.items()]

    async def update_feedback(self, user_id: int, feedback_id: int, changes: FeedbackChanges, *,
                              now: datetime) -> MessageFeedback | None:
        row = self.feedback.get(feedback_id)
        if row is None or row.user_id != user_id:
            return None
        row = replace(row, updated_at=now,
                      feedback_type=changes.feedback_type.value if changes.feedback_type else row.feedback_type,
                      rating=changes.rating if changes.rating is not None else row.rating,
                      comment=changes.comment if changes.comment is not None else row.comment)
        self.feedback[feedback_id] = row
        return row

    async def delete_feedback(self, user_id: int, feedback_id: int) -> bool:
        row = self.feedback.get(feedback_id)
        if row is None or row.user_id != user_id:
            return False
        del self.feedback[feedback_id]
        return True


class MemoryThroughputStore:
    """Over the memory request log's records; `names` is the catalog (model id -> display name).
    A catalogued model gets its integer the first time a request row names it, as in SQL."""

    def __init__(self, records: Mapping[str, RequestRecord], names: Mapping[str, str]) -> None:
        self._records = records
        self._names = names
        self._numbers: dict[str, int] = {}

    def _number(self) -> dict[str, int]:
        for r in self._records.values():
            if r.model in self._names and r.model not in self._numbers:
                self._numbers[r.model] = len(self._numbers) + 1
        return self._numbers

    async def model_number(self, model: str) -> int | None:
        return self._number().get(model)

    async def usage_pairs(self) -> list[UsagePair]:
        numbers = self._number()
        counts: dict[tuple[int, str], int] = {}
        for r in self._records.values():
            if r.status == "completed" and r.model in numbers and r.provider is not None:
                key = (numbers[r.model], r.provider)
                counts[key] = counts.get(key, 0) + 1
        return [UsagePair(model_id=m, provider=p, requests=n) for (m, p), n in counts.items()]

    async def throughput(self, model_id: int, provider: str, *, since: datetime | None) -> Throughput | None:
        model = next((m for m, n in self._number().items() if n == model_id), None)
        rows = [r for r in self._records.values()
                if model is not None and r.model == model and r.provider == provider and r.status == "completed"
                and (since is None or r.created_at >= since)]
        if model is None or not rows:
            return None
        return Throughput(model=self._names[model], provider=provider, requests=len(rows),
                          total_tokens=sum(r.input_tokens + r.output_tokens for r in rows),
                          total_ms=sum(r.processing_time_ms for r in rows))
