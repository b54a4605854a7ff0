"""Write-behind of settlements: the response never waits for the ledger transaction.

Charges are buffered and posted in one transaction at least every `interval_s` and on shutdown.
A lost database keeps the batch for the next attempt; any other failure retries the batch one
charge per transaction, so one bad charge cannot hold the others back. The buffer is bounded:
past `max_buffer` pending charges, settlement waits for room instead of growing memory."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Awaitable, Callable
from decimal import Decimal

import structlog

from domain.errors import ServiceUnavailable
from domain.settlements import PendingCharge

log = structlog.get_logger(__name__)

Post = Callable[[list[PendingCharge]], Awaitable[int]]


class WriteBehindSettlements:
    def __init__(self, post: Post, *, interval_s: float = 0.1, batch_size: int = 500,
                 max_buffer: int = 20_000) -> None:
        self._post = post
        self._interval = interval_s
        self._batch = batch_size
        self._max = max_buffer
        self._buffer: list[PendingCharge] = []
        self._pending: defaultdict[int, Decimal] = defaultdict(Decimal)
        self._room = asyncio.Event()
        self._room.set()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.written = 0

    async def submit(self, charge: PendingCharge) -> None:
        while len(self._buffer) >= self._max:
            self._room.clear()
            await self._room.wait()
        self._buffer.append(charge)
        self._pending[charge.user_id] += charge.amount

    def pending_for(self, user_id: int) -> Decimal:
        return self._pending.get(user_id, Decimal(0))

    async def flush(self) -> None:
        async with self._lock:
            while self._buffer:
                batch = self._buffer[: self._batch]
                try:
                    self.written += await self._post(batch)
                except ServiceUnavailable as exc:
                    log.warning("settlement_flush_failed", pending=len(self._buffer), reason=exc.reason)
                    return  # the batch stays; the next flush retries it
                except Exception:
                    log.exception("settlement_batch_failed", size=len(batch))
                    try:
                        await self._one_by_one(batch)
                    except ServiceUnavailable:
                        return  # retried whole later; charges already written are skipped then
                del self._buffer[: len(batch)]
                for charge in batch:
                    left = self._pending[charge.user_id] - charge.amount
                    if left:
                        self._pending[charge.user_id] = left
                    else:
                        del self._pending[charge.user_id]
                self._room.set()

    async def _one_by_one(self, batch: list[PendingCharge]) -> None:
        for charge in batch:
            try:
                self.written += await self._post([charge])
            except ServiceUnavailable:
                raise
            except Exception:
                log.exception("settlement_dropped", request_id=charge.request_id, user_id=charge.user_id,
                              amount=str(charge.amount))

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="settlement-write-behind")

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
                    log.error("settlement_flush_crashed", error=str(exc))
