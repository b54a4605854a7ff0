"""Chat history (#1691-#1705): a user's sessions, their messages, and feedback on answers.

Ownership goes through the session (messages carry no user id). A soft-deleted session is gone
for every route: the same 404 as a missing id or another user's session."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import msgspec

TITLE_MAX = 255
MODEL_MAX = 255
ROLE_MAX = 32
CONTENT_MAX = 1_000_000
COMMENT_MAX = 5_000
METADATA_MAX_BYTES = 16 * 1024
QUERY_MAX = 500
BATCH_MAX = 100
PREVIEW_CHARS = 50

DEFAULT_MODEL = "openai/gpt-3.5-turbo"  # the seed's default; stored as given, never checked against the catalog
DEDUP_WINDOW = timedelta(minutes=5)    # the seed's frontend-retry guard

SESSION_CREATED = "chat.session_created"
FEEDBACK_SUBMITTED = "chat.feedback_submitted"


class FeedbackType(StrEnum):
    THUMBS_UP = "thumbs_up"
    THUMBS_DOWN = "thumbs_down"
    REGENERATE = "regenerate"


class ChatSession(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    user_id: int
    title: str
    model: str
    is_active: bool
    created_at: datetime
    updated_at: datetime


class ChatMessage(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    session_id: int
    role: str
    content: str
    model: str | None
    tokens: int
    created_at: datetime


class NewMessage(msgspec.Struct, frozen=True, kw_only=True):
    role: str
    content: str
    model: str | None = None
    tokens: int = 0


class SavedMessage(msgspec.Struct, frozen=True, kw_only=True):
    """One item of a batch: the stored (or deduplicated) message, or why the database refused it."""

    message: ChatMessage | None = None
    deduplicated: bool = False  # an existing message returned: nothing was written
    error: str | None = None
    content: str = ""           # of a refused item, for its preview


class AssistantMessage(msgspec.Struct, frozen=True, kw_only=True):
    """What a completed chat completion with `session_id` leaves in the session (written behind)."""

    session_id: int
    content: str
    model: str
    tokens: int
    created_at: datetime


class ChatStats(msgspec.Struct, frozen=True, kw_only=True):
    total_sessions: int
    total_messages: int
    total_tokens: int


class MessageFeedback(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    user_id: int
    session_id: int | None
    message_id: int | None
    feedback_type: str
    rating: int | None
    comment: str | None
    model: str | None
    metadata: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


class NewFeedback(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    feedback_type: FeedbackType
    session_id: int | None = None
    message_id: int | None = None
    rating: int | None = None
    comment: str | None = None
    model: str | None = None
    metadata: dict[str, Any] | None = None


class FeedbackChanges(msgspec.Struct, frozen=True, kw_only=True):
    """None means "not provided": the seed cannot clear a field."""

    feedback_type: FeedbackType | None = None
    rating: int | None = None
    comment: str | None = None


class FeedbackGroup(msgspec.Struct, frozen=True, kw_only=True):
    """One row of the feedback GROUP BY (model, feedback_type)."""

    model: str | None
    feedback_type: str
    count: int
    rating_sum: int
    rating_count: int


class FeedbackFilter(msgspec.Struct, frozen=True, kw_only=True):
    feedback_type: str | None = None
    session_id: int | None = None
    model: str | None = None


def default_title(now: datetime) -> str:
    return f"Chat {now:%Y-%m-%d %H:%M}"


def like_pattern(query: str) -> str:
    """A substring pattern in which `%`, `_` and the escape character itself match literally."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def matches(query: str, *texts: str) -> bool:
    """What the SQL pattern means, for the memory twin: a case-insensitive substring."""
    needle = query.lower()
    return any(needle in t.lower() for t in texts)


def feedback_window_start(now: datetime, days: int) -> datetime:
    """Midnight UTC `days` days ago (the seed truncates the start to midnight)."""
    return (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)


def feedback_stats(groups: list[FeedbackGroup], *, days: int) -> dict[str, Any]:
    """The seed's dict, computed from the grouped counts instead of every row."""
    counts = {t.value: 0 for t in FeedbackType}
    by_model: dict[str, dict[str, int]] = {}
    rating_sum = rating_count = 0
    for g in groups:
        counts[g.feedback_type] = counts.get(g.feedback_type, 0) + g.count
        entry = by_model.setdefault(g.model if g.model is not None else "unknown",
                                    {"thumbs_up": 0, "thumbs_down": 0, "regenerate": 0, "total": 0})
        if g.feedback_type in entry:
            entry[g.feedback_type] += g.count
        entry["total"] += g.count
        rating_sum += g.rating_sum
        rating_count += g.rating_count
    total = sum(g.count for g in groups)
    return {
        "total_feedback": total,
        "thumbs_up": counts["thumbs_up"],
        "thumbs_down": counts["thumbs_down"],
        "regenerate": counts["regenerate"],
        "thumbs_up_rate": round(counts["thumbs_up"] / total * 100, 2) if total else 0.0,
        "thumbs_down_rate": round(counts["thumbs_down"] / total * 100, 2) if total else 0.0,
        "average_rating": round(rating_sum / rating_count, 2) if rating_count else None,
        "by_model": by_model,
        "period_days": days,
    }


def answer_text(body: dict[str, Any]) -> str:
    """The assistant's message of a whole chat completion: its text, then its tool calls as JSON."""
    choices = body.get("choices")
    first = choices[0] if isinstance(choices, list) and choices else None
    message = first.get("message") if isinstance(first, dict) else None
    if not isinstance(message, dict):
        return ""
    return _joined(message.get("content"), message.get("tool_calls"))


def _joined(text: Any, tool_calls: Any) -> str:
    parts = [text] if isinstance(text, str) and text else []
    if tool_calls:
        parts.append(msgspec.json.encode(tool_calls).decode())
    return "\n".join(parts)


class StreamedAnswer:
    """Accumulates a streamed answer (text deltas, tool-call deltas by index) for the session."""

    def __init__(self) -> None:
        self._text: list[str] = []
        self._calls: dict[int, dict[str, Any]] = {}
        self.finish_reason: str | None = None  # the response cache keeps only finished answers

    def add(self, data: dict[str, Any]) -> None:
        """One chunk's deltas (not `Chunk.text`, which also counts tool-call arguments for usage)."""
        for choice in data.get("choices") or ():
            delta = choice.get("delta") if isinstance(choice, dict) else None
            finish = choice.get("finish_reason") if isinstance(choice, dict) else None
            if isinstance(finish, str) and finish:
                self.finish_reason = finish
            text = choice.get("text") if isinstance(choice, dict) else None
            if isinstance(text, str) and text:  # a legacy text completion's stream
                self._text.append(text)
            if not isinstance(delta, dict):
                continue
            content = delta.get("content")
            if isinstance(content, str) and content:
                self._text.append(content)
            for call in delta.get("tool_calls") or ():
                self._add_call(call)

    def _add_call(self, call: Any) -> None:
        """Provider output is not trusted to be well formed: what does not fit is skipped, never raised."""
        if not isinstance(call, dict):
            return
        index = call.get("index")
        entry = self._calls.setdefault(index if isinstance(index, int) else len(self._calls),
                                       {"id": None, "type": "function", "function": {"name": "", "arguments": ""}})
        for key in ("id", "type"):
            if isinstance(call.get(key), str) and call[key]:
                entry[key] = call[key]
        function = call.get("function")
        if isinstance(function, dict):
            for key in ("name", "arguments"):
                if isinstance(function.get(key), str):
                    entry["function"][key] += function[key]

    def text(self) -> str:
        return _joined("".join(self._text), [self._calls[i] for i in sorted(self._calls)])

    def message(self) -> dict[str, Any]:
        """The assembled assistant message, as a whole completion would carry it."""
        message: dict[str, Any] = {"role": "assistant", "content": "".join(self._text) or None}
        if self._calls:
            message["tool_calls"] = [self._calls[i] for i in sorted(self._calls)]
        return message
