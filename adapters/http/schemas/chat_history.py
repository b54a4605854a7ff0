"""Wire shapes of chat history (#1691-#1705): the seed's field names and envelopes, with bounds (the
seed had none: unbounded text is a memory bomb)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from adapters.http.params import INT_MAX, RowIdField
from adapters.http.schemas.envelope import Envelope, envelope
from domain.chat_history import (
    BATCH_MAX,
    COMMENT_MAX,
    CONTENT_MAX,
    MODEL_MAX,
    PREVIEW_CHARS,
    QUERY_MAX,
    ROLE_MAX,
    TITLE_MAX,
    ChatMessage,
    ChatSession,
    FeedbackChanges,
    FeedbackType,
    MessageFeedback,
    NewMessage,
    SavedMessage,
)

_NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL; refused up front where the seed's fields allow it
Title = Annotated[str, msgspec.Meta(max_length=TITLE_MAX, pattern=_NO_NUL)]
ModelName = Annotated[str, msgspec.Meta(max_length=MODEL_MAX, pattern=_NO_NUL)]
Role = Annotated[str, msgspec.Meta(min_length=1, max_length=ROLE_MAX, pattern=_NO_NUL)]
Content = Annotated[str, msgspec.Meta(max_length=CONTENT_MAX)]  # a NUL is the database's to refuse (#1700)
Comment = Annotated[str, msgspec.Meta(max_length=COMMENT_MAX, pattern=_NO_NUL)]
Query = Annotated[str, msgspec.Meta(max_length=QUERY_MAX)]
Tokens = Annotated[int, msgspec.Meta(ge=0, le=INT_MAX)]
Rating = Annotated[int, msgspec.Meta(ge=1, le=5)]
SearchLimit = Annotated[int, msgspec.Meta(ge=1, le=100)]

# --- requests ---------------------------------------------------------------------------------------


class CreateSessionIn(msgspec.Struct, kw_only=True):
    title: Title | None = None
    model: ModelName | None = None


class UpdateSessionIn(msgspec.Struct, kw_only=True):
    title: Title | None = None
    model: ModelName | None = None


class SaveMessageIn(msgspec.Struct, kw_only=True):
    role: Role
    content: Content
    model: ModelName | None = None
    tokens: Tokens | None = 0
    created_at: Annotated[str, msgspec.Meta(max_length=64)] | None = None  # accepted, ignored: server time

    def to_domain(self) -> NewMessage:
        return NewMessage(role=self.role, content=self.content, model=self.model, tokens=self.tokens or 0)


class SaveMessagesIn(msgspec.Struct, kw_only=True):
    messages: Annotated[list[SaveMessageIn], msgspec.Meta(max_length=BATCH_MAX)]


class SearchIn(msgspec.Struct, kw_only=True):
    query: Query
    limit: SearchLimit | None = None


class FeedbackIn(msgspec.Struct, kw_only=True):
    feedback_type: FeedbackType
    session_id: RowIdField | None = None
    message_id: RowIdField | None = None
    rating: Rating | None = None
    comment: Comment | None = None
    model: ModelName | None = None
    metadata: dict[str, Any] | None = None


class FeedbackUpdateIn(msgspec.Struct, kw_only=True):
    feedback_type: FeedbackType | None = None
    rating: Rating | None = None
    comment: Comment | None = None

    def to_domain(self) -> FeedbackChanges:
        return FeedbackChanges(feedback_type=self.feedback_type, rating=self.rating, comment=self.comment)


# --- responses --------------------------------------------------------------------------------------


class DetailOut(msgspec.Struct, kw_only=True):
    """The seed's error body (`{"detail": "Session not found"}`), for the documented 4xx answers."""

    detail: str


class ChatMessageOut(msgspec.Struct, kw_only=True):
    id: int
    session_id: int
    role: str
    content: str
    model: str | None
    tokens: int
    created_at: datetime

    @classmethod
    def of(cls, m: ChatMessage) -> ChatMessageOut:
        return cls(id=m.id, session_id=m.session_id, role=m.role, content=m.content, model=m.model,
                   tokens=m.tokens, created_at=m.created_at)


class ChatSessionOut(msgspec.Struct, kw_only=True):
    id: int
    user_id: int
    title: str
    model: str
    created_at: datetime
    updated_at: datetime
    is_active: bool
    messages: list[ChatMessageOut]

    @classmethod
    def of(cls, s: ChatSession, messages: list[ChatMessage] | None = None) -> ChatSessionOut:
        return cls(id=s.id, user_id=s.user_id, title=s.title, model=s.model, created_at=s.created_at,
                   updated_at=s.updated_at, is_active=s.is_active,
                   messages=[ChatMessageOut.of(m) for m in messages or ()])


class SessionOut(msgspec.Struct, kw_only=True):
    success: bool
    data: ChatSessionOut
    message: str


SessionsOut = Envelope[list[ChatSessionOut]]


def sessions_out(sessions: list[ChatSession]) -> SessionsOut:
    return envelope([ChatSessionOut.of(s) for s in sessions], f"Found {len(sessions)} sessions")


class DoneOut(msgspec.Struct, kw_only=True):
    success: bool
    message: str


class MessageOut(msgspec.Struct, kw_only=True):
    success: bool
    data: ChatMessageOut
    message: str


class SavedItemOut(msgspec.Struct, kw_only=True):
    success: bool
    message_id: int
    data: ChatMessageOut


class FailedItemOut(msgspec.Struct, kw_only=True):
    success: bool
    error: str
    content_preview: str


class BatchData(msgspec.Struct, kw_only=True):
    saved: list[SavedItemOut]
    failed: list[FailedItemOut]
    total: int
    success_count: int
    failure_count: int


class BatchOut(msgspec.Struct, kw_only=True):
    success: bool
    data: BatchData
    message: str

    @classmethod
    def of(cls, items: list[SavedMessage]) -> BatchOut:
        saved = [SavedItemOut(success=True, message_id=i.message.id, data=ChatMessageOut.of(i.message))
                 for i in items if i.message is not None]
        failed = [FailedItemOut(success=False, error=i.error or "The message cannot be stored",
                                content_preview=i.content[:PREVIEW_CHARS]) for i in items if i.message is None]
        return cls(success=not failed, data=BatchData(saved=saved, failed=failed, total=len(items),
                                                      success_count=len(saved), failure_count=len(failed)),
                   message=f"Saved {len(saved)}/{len(items)} messages successfully")


class ChatStatsData(msgspec.Struct, kw_only=True):
    total_sessions: int
    total_messages: int
    total_tokens: int


class ChatStatsOut(msgspec.Struct, kw_only=True):
    success: bool
    message: str
    stats: ChatStatsData


class MessageFeedbackOut(msgspec.Struct, kw_only=True):
    id: int
    session_id: int | None
    message_id: int | None
    user_id: int
    feedback_type: str
    rating: int | None
    comment: str | None
    model: str | None
    metadata: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, f: MessageFeedback) -> MessageFeedbackOut:
        return cls(id=f.id, session_id=f.session_id, message_id=f.message_id, user_id=f.user_id,
                   feedback_type=f.feedback_type, rating=f.rating, comment=f.comment, model=f.model,
                   metadata=f.metadata, created_at=f.created_at, updated_at=f.updated_at)


class FeedbackOut(msgspec.Struct, kw_only=True):
    success: bool
    data: MessageFeedbackOut
    message: str


FeedbackListOut = Envelope[list[MessageFeedbackOut]]


def feedback_list_out(rows: list[MessageFeedback]) -> FeedbackListOut:
    return envelope([MessageFeedbackOut.of(f) for f in rows], f"Found {len(rows)} feedback entries")


class ModelFeedbackCounts(msgspec.Struct, kw_only=True):
    thumbs_up: int
    thumbs_down: int
    regenerate: int
    total: int


class FeedbackStatsData(msgspec.Struct, kw_only=True):
    total_feedback: int
    thumbs_up: int
    thumbs_down: int
    regenerate: int
    thumbs_up_rate: float
    thumbs_down_rate: float
    average_rating: float | None
    by_model: dict[str, ModelFeedbackCounts]
    period_days: int


class FeedbackStatsOut(msgspec.Struct, kw_only=True):
    success: bool
    stats: FeedbackStatsData
    message: str | None = None
