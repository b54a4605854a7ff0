"""Write-behind of settlements: the response never waits for the ledger transaction.

Charges are posted in batches (see BatchWriter) at least every `interval_s` and on shutdown. The
journal also knows, per user, what it has accepted and not yet written, so a balance read from the
ledger to prime the hold store can subtract it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from decimal import Decimal

from adapters.cache.batch_writer import BatchWriter
from domain.settlements import PendingCharge

Post = Callable[[list[PendingCharge]], Awaitable[int]]


class WriteBehindSettlements:
    def __init__(self, post: Post, *, interval_s: float = 0.1, batch_size: int = 500,
                 max_buffer: int = 20_000) -> None:
        self._pending: defaultdict[int, Decimal] = defaultdict(Decimal)
        self._writer: BatchWriter[PendingCharge] = BatchWriter(
            post, name="settlement", interval_s=interval_s, batch_size=batch_size, max_buffer=max_buffer,
            written=self._landed)

    @property
    def buffer(self) -> list[PendingCharge]:
        return self._writer.buffer

    async def submit(self, charge: PendingCharge) -> None:
        await self._writer.put(charge)
        self._pending[charge.user_id] += charge.amount

    def pending_for(self, user_id: int) -> Decimal:
        return self._pending.get(user_id, Decimal(0))

    async def flush(self) -> None:
        await self._writer.flush()

    def start(self) -> None:
        self._writer.start()

    async def stop(self) -> None:
        await self._writer.stop()

    def _landed(self, batch: list[PendingCharge]) -> None:
        for charge in batch:
            left = self._pending[charge.user_id] - charge.amount
            if left:
                self._pending[charge.user_id] = left
            else:
                del self._pending[charge.user_id]
