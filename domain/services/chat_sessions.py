"""Chat sessions (#1691, #1692, #1697, #1702, #1704): create, list, show, rename, soft delete."""

from __future__ import annotations

from domain import not_found
from domain.audit import AuditEvent
from domain.chat_history import DEFAULT_MODEL, SESSION_CREATED, ChatMessage, ChatSession, default_title
from ports.chat_history import ChatHistoryStore
from ports.clock import Clock
from ports.uow import UnitOfWorkFactory


async def record_event(uow: UnitOfWorkFactory, event: AuditEvent) -> None:
    """An audit event beside the change, in its own transaction: losing it never fails the request."""
    try:
        async with uow() as u:
            await u.audit.record(event)
            await u.commit()
    except Exception:
        pass


class CreateChatSession:
    def __init__(self, store: ChatHistoryStore, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._store = store
        self._uow = uow
        self._clock = clock

    async def __call__(self, user_id: int, *, title: str | None, model: str | None) -> ChatSession:
        now = self._clock.now()
        session = await self._store.create_session(user_id, title=title or default_title(now),
                                                   model=model or DEFAULT_MODEL, now=now)
        await record_event(self._uow, AuditEvent(event_type=SESSION_CREATED, created_at=now, user_id=user_id,
                                                 details={"session_id": session.id, "model": session.model}))
        return session


class ListChatSessions:
    def __init__(self, store: ChatHistoryStore) -> None:
        self._store = store

    async def __call__(self, user_id: int, *, limit: int = 20, offset: int = 0) -> list[ChatSession]:
        return await self._store.list_sessions(user_id, limit=limit, offset=offset)


class GetChatSession:
    def __init__(self, store: ChatHistoryStore) -> None:
        self._store = store

    async def __call__(self, user_id: int, session_id: int) -> tuple[ChatSession, list[ChatMessage]]:
        found = await self._store.session_messages(user_id, session_id)
        if found is None:
            raise not_found.session()
        return found


class UpdateChatSession:
    def __init__(self, store: ChatHistoryStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def __call__(self, user_id: int, session_id: int, *, title: str | None,
                       model: str | None) -> tuple[ChatSession, list[ChatMessage]]:
        """An empty string leaves the field as it is (the seed's truthiness test); `updated_at` always moves."""
        updated = await self._store.update_session(user_id, session_id, title=title or None, model=model or None,
                                                   now=self._clock.now())
        found = await self._store.session_messages(user_id, session_id) if updated is not None else None
        if found is None:
            raise not_found.chat_session()
        return found


class DeleteChatSession:
    def __init__(self, store: ChatHistoryStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def __call__(self, user_id: int, session_id: int) -> None:
        if not await self._store.delete_session(user_id, session_id, now=self._clock.now()):
            raise not_found.chat_session()
