"""The settlement journal: charges leave the request path and reach the ledger in batches."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from domain.settlements import PendingCharge


class SettlementJournal(Protocol):
    async def submit(self, charge: PendingCharge) -> None:
        """Accept a charge; it is in the ledger within the flush interval (or on shutdown)."""
        ...

    async def flush(self) -> None: ...

    def pending_for(self, user_id: int) -> Decimal:
        """Charges of this user accepted here and not yet in the ledger (subtracted when a balance
        is read from the ledger to prime the hold store)."""
        ...
