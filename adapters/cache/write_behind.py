"""Write-behind for the request log: the response never waits for this insert (see BatchWriter)."""

from __future__ import annotations

from adapters.cache.batch_writer import BatchWriter
from domain.requests import RequestRecord
from ports.requests import RequestLogStore


class WriteBehindRequestLog:
    def __init__(self, store: RequestLogStore, *, interval_s: float = 0.1, batch_size: int = 500,
                 max_buffer: int = 20_000) -> None:
        self._store = store
        self._writer: BatchWriter[RequestRecord] = BatchWriter(
            store.add_many, name="request_log", interval_s=interval_s, batch_size=batch_size, max_buffer=max_buffer)

    async def record(self, record: RequestRecord) -> None:
        await self._writer.put(record)

    async def flush(self) -> None:
        await self._writer.flush()

    async def get(self, request_id: str) -> RequestRecord | None:
        for r in self._writer.buffer:
            if r.request_id == request_id:
                return r
        return await self._store.get(request_id)

    def start(self) -> None:
        self._writer.start()

    async def stop(self) -> None:
        await self._writer.stop()
