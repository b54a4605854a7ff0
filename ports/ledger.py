"""The append-only credit ledger."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol

from domain.ledger import CreditTransaction
from domain.ledger_check import AccountBalances, UsageGap
from domain.ledger_queries import LedgerSummary, SystemBalances, TransactionQuery


class LedgerRepository(Protocol):
    async def append(self, row: CreditTransaction) -> CreditTransaction:
        """Insert one row; raises Conflict when its request_id was already recorded."""
        ...

    async def list_for_user(self, user_id: int, *, limit: int, offset: int) -> list[CreditTransaction]: ...

    async def append_many(self, rows: list[CreditTransaction]) -> None:
        """Insert rows in order, in one statement (batched settlement); Conflict as `append`."""
        ...

    async def recorded_requests(self, request_ids: list[str]) -> set[str]:
        """Which of these request ids already have a ledger row (replays to skip)."""
        ...

    async def sum_for_user(self, user_id: int) -> Decimal: ...

    async def get(self, transaction_id: int) -> CreditTransaction | None: ...

    async def search(self, query: TransactionQuery, *, limit: int, offset: int) -> list[CreditTransaction]:
        """Rows matching the query, in its order (ties by id), paged."""
        ...

    async def summarize(self, *, user_id: int | None = None, since: datetime | None = None,
                        until: datetime | None = None, detailed: bool = True) -> LedgerSummary:
        """domain.ledger_queries.summarize over the rows in range (since inclusive, until exclusive),
        computed in the database where the money type allows it."""
        ...

    async def granted_since(self, created_by: str, since: datetime) -> Decimal:
        """Sum of the positive admin_credit rows written by `created_by` at or after `since`."""
        ...

    async def rows_after(self, after_id: int, *, limit: int) -> list[CreditTransaction]:
        """Every user's rows with id > after_id, in id order (to stream the whole ledger)."""
        ...

    async def history(self, user_id: int) -> list[CreditTransaction]:
        """All of one user's rows, in id order."""
        ...

    async def user_balances(self, after_user_id: int, *, limit: int) -> list[AccountBalances]:
        """Every user's balances with id > after_user_id, in id order."""
        ...

    async def usage_gaps(self, request_ids: list[str] | None = None) -> list[UsageGap]:
        """Completed request rows of a user with a cost > 0 and no api_usage ledger row, and api_usage
        rows without a request row (all of them, or only these request ids), in request id order."""
        ...

    async def system_balances(self) -> SystemBalances:
        """How many users there are and the sum of their balances."""
        ...
