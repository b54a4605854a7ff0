"""Memory twin of the ledger."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from adapters.memory.store import MemoryStore
from domain.errors import Conflict
from domain.ledger import CreditTransaction
from domain.money import total


class MemoryLedgerRepository:
    def __init__(self, store: MemoryStore) -> None:
        self._s = store

    async def append(self, row: CreditTransaction) -> CreditTransaction:
        if row.request_id is not None and any(r.request_id == row.request_id for r in self._s.ledger):
            raise Conflict(f"request {row.request_id} already recorded", code="duplicate_request")
        stored = msgspec.structs.replace(row, id=self._s.next_id("credit_transactions"))
        self._s.ledger = [*self._s.ledger, stored]
        return stored

    async def list_for_user(self, user_id: int, *, limit: int, offset: int) -> list[CreditTransaction]:
        mine = [r for r in self._s.ledger if r.user_id == user_id]
        mine.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        return mine[offset:offset + limit]

    async def sum_for_user(self, user_id: int) -> Decimal:
        return total(r.amount for r in self._s.ledger if r.user_id == user_id)
