"""Persistence of chat history: sessions, messages, feedback (each call one transaction), and the
request-log figures behind the public throughput metrics."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

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
)
from domain.throughput import Throughput, UsagePair


class ChatHistoryStore(Protocol):
    """Every read is scoped to the owner and to active sessions; None or False means "no such
    session of this user" (missing, another user's, or soft-deleted alike)."""

    async def create_session(self, user_id: int, *, title: str, model: str, now: datetime) -> ChatSession: ...

    async def list_sessions(self, user_id: int, *, limit: int, offset: int) -> list[ChatSession]:
        """Active sessions, `updated_at` DESC then id DESC."""
        ...

    async def get_session(self, user_id: int, session_id: int) -> ChatSession | None: ...

    async def session_messages(self, user_id: int, session_id: int) -> tuple[ChatSession, list[ChatMessage]] | None:
        """The session and all its messages (`created_at` ASC, id ASC)."""
        ...

    async def session_exists(self, user_id: int, session_id: int) -> bool: ...

    async def update_session(self, user_id: int, session_id: int, *, title: str | None, model: str | None,
                             now: datetime) -> ChatSession | None:
        """Set the given fields and bump `updated_at`, only on an active session."""
        ...

    async def delete_session(self, user_id: int, session_id: int, *, now: datetime) -> bool:
        """Soft delete; False when there is no active session to delete."""
        ...

    async def add_messages(self, user_id: int, session_id: int, messages: list[NewMessage], *, now: datetime,
                           dedup_since: datetime) -> list[SavedMessage] | None:
        """One transaction holding the session row's lock: each message is deduplicated (same role and
        content since `dedup_since`, earlier items of the list included: the newest is returned and
        nothing written) or inserted in its own savepoint; a refused row is reported, not raised. The
        session's `updated_at` (and `model`, when a message names one) moves only when a row was
        inserted. None when the session is not the user's active session."""
        ...

    async def add_assistant_messages(self, messages: list[AssistantMessage]) -> None:
        """Batch insert (the write-behind of chat completions); each bumps its session's `updated_at`
        and `model`. A session deleted meanwhile keeps the message (soft delete keeps messages)."""
        ...

    async def search(self, user_id: int, query: str, *, limit: int) -> list[ChatSession]:
        """Active sessions whose title or any message contains `query` (case-insensitive, literal),
        each once, `updated_at` DESC then id DESC: one statement."""
        ...

    async def stats(self, user_id: int) -> ChatStats:
        """Counts over active sessions and their messages: one statement."""
        ...

    async def message_owned(self, user_id: int, message_id: int, session_id: int | None) -> bool:
        """The message is in one of the user's active sessions (in `session_id` when given)."""
        ...

    async def add_feedback(self, new: NewFeedback, *, now: datetime) -> MessageFeedback: ...

    async def list_feedback(self, user_id: int, where: FeedbackFilter, *, limit: int | None,
                            offset: int = 0) -> list[MessageFeedback]:
        """`created_at` DESC, id DESC; `limit` None: all."""
        ...

    async def feedback_groups(self, user_id: int, *, since: datetime, model: str | None) -> list[FeedbackGroup]:
        """Counts and rating sums per (model, feedback_type) since `since`: one GROUP BY."""
        ...

    async def update_feedback(self, user_id: int, feedback_id: int, changes: FeedbackChanges, *,
                              now: datetime) -> MessageFeedback | None: ...

    async def delete_feedback(self, user_id: int, feedback_id: int) -> bool: ...


class ThroughputStore(Protocol):
    async def usage_pairs(self) -> list[UsagePair]:
        """Completed requests per (integer model id, provider), all time: one GROUP BY."""
        ...

    async def throughput(self, model_id: int, provider: str, *, since: datetime | None) -> Throughput | None:
        """Sums over completed requests of that model served by that provider since `since` (None:
        all time); None when there is none."""
        ...

    async def model_number(self, model: str) -> int | None:
        """The integer id of a canonical model (None until a request row named it)."""
        ...


class AssistantMessageLog(Protocol):
    """Assistant messages of chat completions with `session_id`, persisted off the request path."""

    async def record(self, message: AssistantMessage) -> None:
        """Accept one message; a write-behind implementation persists it within its flush interval."""
        ...

    async def flush(self) -> None: ...
