"""Write-behind for the request log: the response never waits for this insert.

Records are buffered and written in batches at least every `interval_s` and on shutdown. The buffer
is bounded: when the store falls behind by `max_buffer` records, new records wait for room
(back-pressure) instead of growing memory without limit."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from domain.errors import ServiceUnavailable
from domain.requests import RequestRecord
from ports.requests import RequestLogStore

log = structlog.get_logger(__name__)


class WriteBehindRequestLog:
    def __init__(self, store: RequestLogStore, *, interval_s: float = 0.1, batch_size: int = 500,
                 max_buffer: int = 20_000) -> None:
        self._store = store
        self._interval = interval_s
        self._batch = batch_size
        self._max = max_buffer
        self._buffer: list[RequestRecord] = []
        self._room = asyncio.Event()
        self._room.set()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.dropped = 0

    async def record(self, record: RequestRecord) -> None:
        while len(self._buffer) >= self._max:
            self._room.clear()
            await self._room.wait()
        self._buffer.append(record)

    async def flush(self) -> None:
        async with self._lock:
            while self._buffer:
                batch, self._buffer = self._buffer[: self._batch], self._buffer[self._batch:]
                try:
                    await self._store.add_many(batch)
                except ServiceUnavailable as exc:
                    # Keep the batch for the next flush; the database may be back by then.
                    self._buffer[:0] = batch
                    log.warning("request_log_flush_failed", pending=len(self._buffer), reason=exc.reason)
                    return
                finally:
                    if len(self._buffer) < self._max:
                        self._room.set()

    async def get(self, request_id: str) -> RequestRecord | None:
        for r in self._buffer:
            if r.request_id == request_id:
                return r
        return await self._store.get(request_id)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="request-log-write-behind")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            if self._buffer:
                try:
                    await self.flush()
                except Exception as exc:
                    log.error("request_log_flush_crashed", error=str(exc))
