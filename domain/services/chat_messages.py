"""Messages of a session (#1699 one, #1700 a batch of up to 100), with the seed's 5-minute dedup."""

from __future__ import annotations

from domain import not_found
from domain.chat_history import BATCH_MAX, DEDUP_WINDOW, ChatMessage, NewMessage, SavedMessage
from domain.errors import InvalidInput
from ports.chat_history import ChatHistoryStore
from ports.clock import Clock


class SaveChatMessages:
    def __init__(self, store: ChatHistoryStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def __call__(self, user_id: int, session_id: int, messages: list[NewMessage]) -> list[SavedMessage]:
        if len(messages) > BATCH_MAX:
            raise InvalidInput(f"at most {BATCH_MAX} messages per batch", field="messages")
        now = self._clock.now()
        saved = await self._store.add_messages(user_id, session_id, messages, now=now, dedup_since=now - DEDUP_WINDOW)
        if saved is None:
            raise not_found.session()
        return saved


class SaveChatMessage:
    def __init__(self, batch: SaveChatMessages) -> None:
        self._batch = batch

    async def __call__(self, user_id: int, session_id: int, message: NewMessage) -> ChatMessage:
        [saved] = await self._batch(user_id, session_id, [message])
        if saved.message is None:
            raise InvalidInput(saved.error or "The message cannot be stored", field="content")
        return saved.message
