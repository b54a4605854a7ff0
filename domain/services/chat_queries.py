"""Search (#1698) and statistics (#1693) over the caller's active sessions: one statement each."""

from __future__ import annotations

from domain.chat_history import ChatSession, ChatStats
from ports.chat_history import ChatHistoryStore


class SearchChatSessions:
    def __init__(self, store: ChatHistoryStore) -> None:
        self._store = store

    async def __call__(self, user_id: int, query: str, *, limit: int = 20) -> list[ChatSession]:
        return await self._store.search(user_id, query, limit=limit)


class GetChatStats:
    def __init__(self, store: ChatHistoryStore) -> None:
        self._store = store

    async def __call__(self, user_id: int) -> ChatStats:
        return await self._store.stats(user_id)
