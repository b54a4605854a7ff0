"""Chat history in SQL (PostgreSQL and SQLite): every method is one transaction, owner-scoped.

Search and stats are single statements; the trigram indexes (PostgreSQL) serve ILIKE, SQLite uses
LIKE. Message inserts lock the session row first (FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE
already serialises writers), so the dedup check and the insert cannot interleave with a twin post."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.postgres.failures import database_guard, is_infrastructure_failure, is_out_of_range
from adapters.postgres.tables import chat_messages as cm
from adapters.postgres.tables import chat_sessions as cs
from adapters.postgres.tables import message_feedback as mf
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
    like_pattern,
)

_SESSION = [cs.c.id, cs.c.user_id, cs.c.title, cs.c.model, cs.c.is_active, cs.c.created_at, cs.c.updated_at]
_MESSAGE = [cm.c.id, cm.c.session_id, cm.c.role, cm.c.content, cm.c.model, cm.c.tokens, cm.c.created_at]
_FEEDBACK = [mf.c.id, mf.c.user_id, mf.c.session_id, mf.c.message_id, mf.c.feedback_type, mf.c.rating,
             mf.c.comment, mf.c.model, mf.c.metadata, mf.c.created_at, mf.c.updated_at]


def _session(row: Any) -> ChatSession:
    return ChatSession(id=row.id, user_id=row.user_id, title=row.title, model=row.model,
                       is_active=bool(row.is_active), created_at=row.created_at, updated_at=row.updated_at)


def _message(row: Any) -> ChatMessage:
    return ChatMessage(id=row.id, session_id=row.session_id, role=row.role, content=row.content, model=row.model,
                       tokens=row.tokens, created_at=row.created_at)


def _feedback(row: Any) -> MessageFeedback:
    return MessageFeedback(id=row.id, user_id=row.user_id, session_id=row.session_id, message_id=row.message_id,
                           feedback_type=row.feedback_type, rating=row.rating, comment=row.comment,
                           model=row.model, metadata=row.metadata, created_at=row.created_at,
                           updated_at=row.updated_at)


def _owned(user_id: int, session_id: int) -> ColumnElement[bool]:
    return and_(cs.c.id == session_id, cs.c.user_id == user_id, cs.c.is_active)


def _refusal(exc: BaseException) -> str:
    """A sanitised reason for a row the database refused (never the driver's text or the SQL)."""
    if is_out_of_range(exc):
        return "The message contains a value the database cannot store (out of range, or a NUL character)"
    if isinstance(exc, IntegrityError):
        return "The message violates a database constraint"
    return "The database refused the message"


CONNECT_ATTEMPTS = 2  # the one retry layer: establishing a connection, before any statement is sent


class PostgresChatHistoryStore:
    """Connection establishment is retried once (nothing was sent yet, so a retry cannot write twice);
    a failure after that, or during a statement, is a 503 at once: an INSERT is never retried."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"

    @asynccontextmanager
    async def _connection(self, *, write: bool = False) -> AsyncIterator[AsyncConnection]:
        async with database_guard():
            for attempt in range(CONNECT_ATTEMPTS):
                try:
                    conn = await self._engine.connect()
                    break
                except Exception as exc:
                    if attempt + 1 == CONNECT_ATTEMPTS or not is_infrastructure_failure(exc):
                        raise
            try:
                if not write:
                    yield conn
                    return
                async with conn.begin():
                    yield conn
            finally:
                await conn.close()

    # --- sessions -----------------------------------------------------------------------------------

    async def create_session(self, user_id: int, *, title: str, model: str, now: datetime) -> ChatSession:
        async with self._connection(write=True) as conn:
            row = (await conn.execute(insert(cs).values(user_id=user_id, title=title, model=model, is_active=True,
                                                        created_at=now, updated_at=now)
                                      .returning(*_SESSION))).one()
        return _session(row)

    async def list_sessions(self, user_id: int, *, limit: int, offset: int) -> list[ChatSession]:
        query = (select(*_SESSION).where(cs.c.user_id == user_id, cs.c.is_active)
                 .order_by(cs.c.updated_at.desc(), cs.c.id.desc()).limit(limit).offset(offset))
        async with self._connection() as conn:
            return [_session(r) for r in await conn.execute(query)]

    async def get_session(self, user_id: int, session_id: int) -> ChatSession | None:
        async with self._connection() as conn:
            row = (await conn.execute(select(*_SESSION).where(_owned(user_id, session_id)))).first()
        return _session(row) if row else None

    async def session_messages(self, user_id: int, session_id: int) -> tuple[ChatSession, list[ChatMessage]] | None:
        async with self._connection() as conn:
            row = (await conn.execute(select(*_SESSION).where(_owned(user_id, session_id)))).first()
            if row is None:
                return None
            messages = await conn.execute(select(*_MESSAGE).where(cm.c.session_id == session_id)
                                          .order_by(cm.c.created_at, cm.c.id))
            return _session(row), [_message(m) for m in messages]

    async def session_exists(self, user_id: int, session_id: int) -> bool:
        async with self._connection() as conn:
            return (await conn.execute(select(cs.c.id).where(_owned(user_id, session_id)))).first() is not None

    async def update_session(self, user_id: int, session_id: int, *, title: str | None, model: str | None,
                             now: datetime) -> ChatSession | None:
        values: dict[str, Any] = {"updated_at": now}
        if title is not None:
            values["title"] = title
        if model is not None:
            values["model"] = model
        async with self._connection(write=True) as conn:
            row = (await conn.execute(update(cs).where(_owned(user_id, session_id)).values(**values)
                                      .returning(*_SESSION))).first()
        return _session(row) if row else None

    async def delete_session(self, user_id: int, session_id: int, *, now: datetime) -> bool:
        async with self._connection(write=True) as conn:
            done = await conn.execute(update(cs).where(_owned(user_id, session_id))
                                      .values(is_active=False, updated_at=now))
        return bool(done.rowcount)

    # --- messages -----------------------------------------------------------------------------------

    async def add_messages(self, user_id: int, session_id: int, messages: list[NewMessage], *, now: datetime,
                           dedup_since: datetime) -> list[SavedMessage] | None:
        async with self._connection(write=True) as conn:
            locked = select(cs.c.id).where(_owned(user_id, session_id))
            if self._postgres:
                locked = locked.with_for_update()
            if (await conn.execute(locked)).first() is None:
                return None
            saved: list[SavedMessage] = []
            model: str | None = None
            inserted = False
            for message in messages:
                item = await self._add_one(conn, session_id, message, now, dedup_since)
                saved.append(item)
                if item.message is not None and not item.deduplicated:
                    inserted = True
                    model = message.model or model
            if inserted:
                values: dict[str, Any] = {"updated_at": now}
                if model:
                    values["model"] = model
                await conn.execute(update(cs).where(cs.c.id == session_id).values(**values))
            return saved

    async def _add_one(self, conn: AsyncConnection, session_id: int, message: NewMessage, now: datetime,
                       dedup_since: datetime) -> SavedMessage:
        try:
            async with conn.begin_nested():
                twin = (await conn.execute(
                    select(*_MESSAGE).where(cm.c.session_id == session_id, cm.c.role == message.role,
                                            cm.c.content == message.content, cm.c.created_at >= dedup_since)
                    .order_by(cm.c.created_at.desc(), cm.c.id.desc()).limit(1))).first()
                if twin is not None:
                    return SavedMessage(message=_message(twin), deduplicated=True)
                row = (await conn.execute(insert(cm).values(
                    session_id=session_id, role=message.role, content=message.content, model=message.model,
                    tokens=message.tokens, created_at=now).returning(*_MESSAGE))).one()
                return SavedMessage(message=_message(row))
        except DBAPIError as exc:
            if is_infrastructure_failure(exc) and not is_out_of_range(exc):
                raise
            return SavedMessage(error=_refusal(exc), content=message.content)

    async def add_assistant_messages(self, messages: list[AssistantMessage]) -> None:
        if not messages:
            return
        async with self._connection(write=True) as conn:
            await conn.execute(insert(cm), [
                {"session_id": m.session_id, "role": "assistant", "content": m.content, "model": m.model,
                 "tokens": m.tokens, "created_at": m.created_at} for m in messages])
            latest: dict[int, AssistantMessage] = {}
            for m in messages:
                latest[m.session_id] = m
            for m in latest.values():
                await conn.execute(update(cs).where(cs.c.id == m.session_id)
                                   .values(updated_at=m.created_at, model=m.model))

    # --- search and stats ---------------------------------------------------------------------------

    async def search(self, user_id: int, query: str, *, limit: int) -> list[ChatSession]:
        pattern = like_pattern(query)

        def like(column: Any) -> ColumnElement[bool]:
            return column.ilike(pattern, escape="\\")  # ILIKE on PostgreSQL (trigram index), lower() LIKE on SQLite

        in_messages = exists().where(cm.c.session_id == cs.c.id, like(cm.c.content))
        statement = (select(*_SESSION).where(cs.c.user_id == user_id, cs.c.is_active,
                                             or_(like(cs.c.title), in_messages))
                     .order_by(cs.c.updated_at.desc(), cs.c.id.desc()).limit(limit))
        async with self._connection() as conn:
            return [_session(r) for r in await conn.execute(statement)]

    async def stats(self, user_id: int) -> ChatStats:
        sessions = (select(func.count()).select_from(cs).where(cs.c.user_id == user_id, cs.c.is_active)
                    .scalar_subquery())
        statement = (select(sessions.label("sessions"), func.count(cm.c.id).label("messages"),
                            func.coalesce(func.sum(cm.c.tokens), 0).label("tokens"))
                     .select_from(cm.join(cs, cs.c.id == cm.c.session_id))
                     .where(cs.c.user_id == user_id, cs.c.is_active))
        async with self._connection() as conn:
            row = (await conn.execute(statement)).one()
        return ChatStats(total_sessions=int(row.sessions), total_messages=int(row.messages),
                         total_tokens=int(row.tokens))

    # --- feedback -----------------------------------------------------------------------------------

    async def message_owned(self, user_id: int, message_id: int, session_id: int | None) -> bool:
        statement = (select(cm.c.id).join(cs, cs.c.id == cm.c.session_id)
                     .where(cm.c.id == message_id, cs.c.user_id == user_id, cs.c.is_active))
        if session_id is not None:
            statement = statement.where(cm.c.session_id == session_id)
        async with self._connection() as conn:
            return (await conn.execute(statement)).first() is not None

    async def add_feedback(self, new: NewFeedback, *, now: datetime) -> MessageFeedback:
        async with self._connection(write=True) as conn:
            row = (await conn.execute(insert(mf).values(
                user_id=new.user_id, session_id=new.session_id, message_id=new.message_id,
                feedback_type=new.feedback_type.value, rating=new.rating, comment=new.comment, model=new.model,
                metadata=new.metadata, created_at=now, updated_at=now).returning(*_FEEDBACK))).one()
        return _feedback(row)

    async def list_feedback(self, user_id: int, where: FeedbackFilter, *, limit: int | None,
                            offset: int = 0) -> list[MessageFeedback]:
        statement = select(*_FEEDBACK).where(mf.c.user_id == user_id)
        if where.feedback_type is not None:
            statement = statement.where(mf.c.feedback_type == where.feedback_type)
        if where.session_id is not None:
            statement = statement.where(mf.c.session_id == where.session_id)
        if where.model is not None:
            statement = statement.where(mf.c.model == where.model)
        statement = statement.order_by(mf.c.created_at.desc(), mf.c.id.desc()).offset(offset)
        if limit is not None:
            statement = statement.limit(limit)
        async with self._connection() as conn:
            return [_feedback(r) for r in await conn.execute(statement)]

    async def feedback_groups(self, user_id: int, *, since: datetime, model: str | None) -> list[FeedbackGroup]:
        statement = (select(mf.c.model, mf.c.feedback_type, func.count().label("n"),
                            func.coalesce(func.sum(mf.c.rating), 0).label("rating_sum"),
                            func.count(mf.c.rating).label("rating_count"))
                     .where(mf.c.user_id == user_id, mf.c.created_at >= since)
                     .group_by(mf.c.model, mf.c.feedback_type))
        if model is not None:
            statement = statement.where(mf.c.model == model)
        async with self._connection() as conn:
            rows: Sequence[Any] = (await conn.execute(statement)).all()
        return [FeedbackGroup(model=r.model, feedback_type=r.feedback_type, count=int(r.n),
                              rating_sum=int(r.rating_sum), rating_count=int(r.rating_count)) for r in rows]

    async def update_feedback(self, user_id: int, feedback_id: int, changes: FeedbackChanges, *,
                              now: datetime) -> MessageFeedback | None:
        values: dict[str, Any] = {"updated_at": now}
        if changes.feedback_type is not None:
            values["feedback_type"] = changes.feedback_type.value
        if changes.rating is not None:
            values["rating"] = changes.rating
        if changes.comment is not None:
            values["comment"] = changes.comment
        async with self._connection(write=True) as conn:
            row = (await conn.execute(update(mf).where(mf.c.id == feedback_id, mf.c.user_id == user_id)
                                      .values(**values).returning(*_FEEDBACK))).first()
        return _feedback(row) if row else None

    async def delete_feedback(self, user_id: int, feedback_id: int) -> bool:
        async with self._connection(write=True) as conn:
            done = await conn.execute(delete(mf).where(mf.c.id == feedback_id, mf.c.user_id == user_id))
        return bool(done.rowcount)
