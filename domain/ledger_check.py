"""The ledger's invariant, as a check: every user's rows chain from a zero balance, each row's
arithmetic holds, and the sum of the rows is the balance (subscription allowance + purchased credits)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum

import msgspec

from domain.ledger import Balances, CreditTransaction
from domain.money import ZERO, total

INITIAL_BALANCE = ZERO


class MismatchKind(StrEnum):
    ROW_ARITHMETIC = "row_arithmetic"      # balance_after != balance_before + amount
    CHAIN_BREAK = "chain_break"            # balance_before != the previous row's balance_after
    BALANCE = "balance_mismatch"           # initial + sum(amounts) != allowance + purchased
    ORPHAN_ROWS = "orphan_rows"            # rows of a user that does not exist
    UNCHARGED_REQUEST = "uncharged_request"  # a completed request with a cost has no usage ledger row
    UNLOGGED_USAGE = "unlogged_usage"      # a usage ledger row has no request row


class Mismatch(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    kind: MismatchKind
    detail: str
    transaction_id: int | None = None


class AccountBalances(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    balances: Balances


class UsageGap(msgspec.Struct, frozen=True, kw_only=True):
    """A request and the ledger disagree: `kind` is UNCHARGED_REQUEST or UNLOGGED_USAGE."""

    kind: MismatchKind
    request_id: str
    user_id: int
    amount: Decimal  # the request's cost, or the usage row's amount

    def mismatch(self) -> Mismatch:
        what = (f"completed request {self.request_id} (cost {self.amount}) has no usage ledger row"
                if self.kind is MismatchKind.UNCHARGED_REQUEST
                else f"usage row of request {self.request_id} (amount {self.amount}) has no request row")
        return Mismatch(user_id=self.user_id, kind=self.kind, detail=what)


class LedgerReport(msgspec.Struct, frozen=True, kw_only=True):
    users_checked: int
    rows_checked: int
    mismatches: list[Mismatch]
    open_holds: int | None = None  # None: no hold store to ask
    held: Decimal | None = None

    @property
    def ok(self) -> bool:
        return not self.mismatches


class UserChain:
    """One user's rows, fed in id order; pure and incremental so a whole ledger streams through."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.rows = 0
        self.total = ZERO
        self._last = INITIAL_BALANCE

    def add(self, row: CreditTransaction) -> list[Mismatch]:
        found = []
        if row.balance_before != self._last:
            found.append(Mismatch(
                user_id=self.user_id, kind=MismatchKind.CHAIN_BREAK, transaction_id=row.id,
                detail=f"balance_before {row.balance_before} != previous balance_after {self._last}"))
        if row.balance_after != row.balance_before + row.amount:
            found.append(Mismatch(
                user_id=self.user_id, kind=MismatchKind.ROW_ARITHMETIC, transaction_id=row.id,
                detail=f"balance_after {row.balance_after} != balance_before {row.balance_before} "
                       f"+ amount {row.amount}"))
        self.rows += 1
        self.total = total((self.total, row.amount))
        self._last = row.balance_after
        return found

    def close(self, balances: Balances | None) -> list[Mismatch]:
        """Compare with the user's current balances (None: the user does not exist)."""
        if balances is None:
            return [Mismatch(user_id=self.user_id, kind=MismatchKind.ORPHAN_ROWS,
                             detail=f"{self.rows} rows for a user that does not exist")] if self.rows else []
        expected = INITIAL_BALANCE + self.total
        if expected != balances.total:
            return [Mismatch(
                user_id=self.user_id, kind=MismatchKind.BALANCE,
                detail=f"initial {INITIAL_BALANCE} + sum of {self.rows} rows = {expected}, but balance is "
                       f"{balances.total} (allowance {balances.subscription_allowance} + purchased "
                       f"{balances.purchased_credits})")]
        return []


def check_user(user_id: int, rows: Iterable[CreditTransaction], balances: Balances | None) -> list[Mismatch]:
    """Every mismatch of one user, whose rows are given in id order."""
    chain = UserChain(user_id)
    found = [m for row in rows for m in chain.add(row)]
    return found + chain.close(balances)
