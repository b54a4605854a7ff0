"""Read side of credits: the admin transaction search (#1728) and summary (#1727), and a user's own
balance and transactions."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from domain import not_found
from domain.accounts import User
from domain.credits import CreditOperationRefused
from domain.errors import InvalidInput
from domain.ledger import Balances, CreditTransaction
from domain.ledger_queries import (
    Direction,
    LedgerSummary,
    SortField,
    SystemBalances,
    TransactionQuery,
    date_bound,
)
from domain.money import ZERO, usd
from ports.clock import Clock
from ports.holds import HoldStore
from ports.uow import UnitOfWorkFactory

MAX_PAGE = 1000


class TransactionPage(msgspec.Struct, frozen=True, kw_only=True):
    transactions: list[CreditTransaction]
    has_more: bool
    limit: int
    offset: int


class UserCreditSummary(msgspec.Struct, frozen=True, kw_only=True):
    user: User
    summary: LedgerSummary


class SystemCreditSummary(msgspec.Struct, frozen=True, kw_only=True):
    balances: SystemBalances
    summary: LedgerSummary


class BalanceView(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    balances: Balances
    held: Decimal  # sum of the user's open holds: in flight, not yet settled


def _page_bounds(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"must be between 1 and {MAX_PAGE}", field="limit", loc=["query", "limit"])
    if offset < 0:
        raise InvalidInput("must be >= 0", field="offset", loc=["query", "offset"])


def _bound(value: Decimal | None, field: str) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = usd(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("must be a finite number", field=field, loc=["query", field]) from exc
    if amount < 0:
        raise InvalidInput("must be >= 0", field=field, loc=["query", field])
    return amount


class SearchTransactions:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, *, limit: int = 50, offset: int = 0, user_id: int | None = None,
                       transaction_type: str | None = None, from_date: str | None = None, to_date: str | None = None,
                       min_amount: Decimal | None = None, max_amount: Decimal | None = None,
                       direction: str | None = None, sort_by: str = "created_at",
                       sort_order: str = "desc") -> TransactionPage:
        if direction is not None and direction not in Direction.__members__.values():
            raise CreditOperationRefused("direction must be 'credit' or 'charge'")
        if sort_by not in SortField.__members__.values():
            raise CreditOperationRefused("sort_by must be 'created_at', 'amount', or 'transaction_type'")
        if sort_order not in ("asc", "desc"):
            raise CreditOperationRefused("sort_order must be 'asc' or 'desc'")
        _page_bounds(limit, offset)
        query = TransactionQuery(
            user_id=user_id, transaction_type=transaction_type or None,
            since=date_bound(from_date, field="from_date", end=False),
            until=date_bound(to_date, field="to_date", end=True),
            min_amount=_bound(min_amount, "min_amount"), max_amount=_bound(max_amount, "max_amount"),
            direction=Direction(direction) if direction else None, sort_by=SortField(sort_by),
            descending=sort_order == "desc")
        async with self._uow() as uow:
            rows = await uow.ledger.search(query, limit=limit + 1, offset=offset)
        return TransactionPage(transactions=rows[:limit], has_more=len(rows) > limit, limit=limit, offset=offset)


class SummarizeCredits:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, *, user_id: int | None = None, from_date: str | None = None,
                       to_date: str | None = None) -> UserCreditSummary | SystemCreditSummary:
        since = date_bound(from_date, field="from_date", end=False)
        until = date_bound(to_date, field="to_date", end=True)
        async with self._uow() as uow:
            if user_id is None:
                return SystemCreditSummary(
                    balances=await uow.ledger.system_balances(),
                    summary=await uow.ledger.summarize(since=since, until=until, detailed=False))
            user = await uow.users.get(user_id)
            if user is None:
                raise not_found.user(user_id)
            return UserCreditSummary(user=user, summary=await uow.ledger.summarize(user_id=user_id, since=since,
                                                                                  until=until))


class GetBalance:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, holds: HoldStore | None = None) -> None:
        self._uow = uow
        self._clock = clock
        self._holds = holds

    async def __call__(self, user_id: int) -> BalanceView:
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise not_found.user(user_id)
        held = ZERO
        if self._holds is not None:
            held = await self._holds.held(user_id, now=self._clock.now().timestamp())
        return BalanceView(user_id=user_id, held=held, balances=Balances(
            subscription_allowance=user.subscription_allowance, purchased_credits=user.purchased_credits))


class ListOwnTransactions:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, user_id: int, *, limit: int = 50, offset: int = 0) -> TransactionPage:
        _page_bounds(limit, offset)
        async with self._uow() as uow:
            rows = await uow.ledger.list_for_user(user_id, limit=limit + 1, offset=offset)
        return TransactionPage(transactions=rows[:limit], has_more=len(rows) > limit, limit=limit, offset=offset)
