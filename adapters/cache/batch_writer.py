"""Write-behind: buffer items and write them in batches, off the request path.

Batches go out at least every `interval_s` and on stop. A lost database (ServiceUnavailable) keeps
the batch for the next attempt; any other failure retries the batch item by item, so one bad item
is logged and dropped without holding the others back. The buffer is bounded: past `max_buffer`
items, `put` waits for room (back-pressure) instead of growing memory without limit."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import structlog

from domain.errors import ServiceUnavailable

log = structlog.get_logger(__name__)
T = TypeVar("T")


class BatchWriter(Generic[T]):
    def __init__(self, write: Callable[[list[T]], Awaitable[object]], *, name: str, interval_s: float = 0.1,
                 batch_size: int = 500, max_buffer: int = 20_000,
                 written: Callable[[list[T]], None] | None = None) -> None:
        self._write = write
        self._name = name
        self._interval = interval_s
        self._batch = batch_size
        self._max = max_buffer
        self._written = written
        self.buffer: list[T] = []
        self._room = asyncio.Event()
        self._room.set()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def put(self, item: T) -> None:
        while len(self.buffer) >= self._max:
            self._room.clear()
            await self._room.wait()
        self.buffer.append(item)

    async def flush(self) -> None:
        async with self._lock:
            while self.buffer:
                batch = self.buffer[: self._batch]
                try:
                    await self._write(batch)
                except ServiceUnavailable as exc:
                    log.warning(f"{self._name}_flush_failed", pending=len(self.buffer), reason=exc.reason)
                    return  # the batch stays; the next flush retries it
                except Exception:
                    log.exception(f"{self._name}_batch_failed", size=len(batch))
                    try:
                        await self._one_by_one(batch)
                    except ServiceUnavailable:
                        return  # retried whole later: writers skip what already landed
                del self.buffer[: len(batch)]
                if self._written is not None:
                    self._written(batch)
                self._room.set()

    async def _one_by_one(self, batch: list[T]) -> None:
        for item in batch:
            try:
                await self._write([item])
            except ServiceUnavailable:
                raise
            except Exception:
                log.exception(f"{self._name}_item_dropped", item=repr(item)[:500])

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"{self._name}-write-behind")

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
            if self.buffer:
                try:
                    await self.flush()
                except Exception as exc:
                    log.error(f"{self._name}_flush_crashed", error=str(exc))
