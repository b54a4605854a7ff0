"""The append-only credit ledger."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from domain.ledger import CreditTransaction


class LedgerRepository(Protocol):
    async def append(self, row: CreditTransaction) -> CreditTransaction:
        """Insert one row; raises Conflict when its request_id was already recorded."""
        ...

    async def list_for_user(self, user_id: int, *, limit: int, offset: int) -> list[CreditTransaction]: ...

    async def sum_for_user(self, user_id: int) -> Decimal: ...
