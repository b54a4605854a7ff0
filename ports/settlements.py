"""Where settlements wait on their way to the ledger.

`SettlementJournal`: the in-process write-behind (the embedded default): charges reach the ledger
in batches within its flush interval. `SettlementStream`: the durable journal (Redis), appended to
by the hold store's settle call and read by a drainer in every process, for whom it is this port."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from domain.settlements import JournalEntry, PendingCharge


class SettlementJournal(Protocol):
    async def submit(self, charge: PendingCharge) -> None:
        """Accept a charge; it is in the ledger within the flush interval (or on shutdown)."""
        ...

    async def flush(self) -> None: ...

    def pending_for(self, user_id: int) -> Decimal:
        """Charges of this user accepted here and not yet in the ledger (subtracted when a balance
        is read from the ledger to prime the hold store)."""
        ...


class SettlementStream(Protocol):
    """One consumer's view of the durable journal, shared by every process's drainer."""

    async def read(self, count: int) -> list[JournalEntry]:
        """Up to `count` entries no consumer has been given yet; they are now this consumer's."""
        ...

    async def claim_stale(self, count: int) -> list[JournalEntry]:
        """Up to `count` entries some consumer was given and left unacknowledged for longer than the
        claim timeout (it died, or is stuck): they are now this consumer's."""
        ...

    async def ack(self, entries: list[JournalEntry]) -> None:
        """The entries are written: drop them from the journal (and their charges from the unposted
        totals), once, whoever else acknowledges them too."""
        ...

    async def backlog(self) -> int:
        """Entries in the journal not yet acknowledged (for metrics and the shutdown drain)."""
        ...

    async def leave(self) -> None:
        """Graceful stop: this consumer will read no more."""
        ...
