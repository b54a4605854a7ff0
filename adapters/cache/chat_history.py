"""Write-behind for the assistant messages chat completions leave in sessions (see BatchWriter):
the response never waits for this insert, and a stop flushes what is buffered."""

from __future__ import annotations

from adapters.cache.batch_writer import BatchWriter
from domain.chat_history import AssistantMessage
from ports.chat_history import ChatHistoryStore


class WriteBehindAssistantMessages:
    def __init__(self, store: ChatHistoryStore, *, interval_s: float = 0.1, batch_size: int = 500,
                 max_buffer: int = 20_000) -> None:
        self._writer: BatchWriter[AssistantMessage] = BatchWriter(
            store.add_assistant_messages, name="assistant_messages", interval_s=interval_s, batch_size=batch_size,
            max_buffer=max_buffer)

    async def record(self, message: AssistantMessage) -> None:
        await self._writer.put(message)

    async def flush(self) -> None:
        await self._writer.flush()

    def start(self) -> None:
        self._writer.start()

    async def stop(self) -> None:
        await self._writer.stop()
