"""Chat completions that write history (`POST /v1/chat/completions?session_id=N`).

The session is checked before any provider is called; the assistant's answer of a completed
request goes to the session through a write-behind, like the request row, never on the request path."""

from __future__ import annotations

from domain.chat_history import AssistantMessage
from domain.errors import AuthenticationRequired, NotFound
from domain.inference import Caller
from ports.chat_history import AssistantMessageLog, ChatHistoryStore
from ports.clock import Clock


class SessionHistory:
    def __init__(self, store: ChatHistoryStore, log: AssistantMessageLog, clock: Clock) -> None:
        self._store = store
        self._log = log
        self._clock = clock

    async def check(self, caller: Caller, session_id: int) -> None:
        if caller.user_id is None:
            raise AuthenticationRequired()
        if not await self._store.session_exists(caller.user_id, session_id):
            raise NotFound("Session not found", code="session_not_found")

    async def save(self, session_id: int, *, content: str, model: str, tokens: int) -> None:
        await self._log.record(AssistantMessage(session_id=session_id, content=content, model=model, tokens=tokens,
                                                created_at=self._clock.now()))
