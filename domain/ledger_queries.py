"""Reading the ledger: the transaction search's filters and order, and the summary's aggregates.

The SQL adapters compute these in the database where the column type allows it exactly; the rules
here are the definition every adapter is tested against."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Context, Decimal, localcontext
from enum import StrEnum

import msgspec

from domain.errors import InvalidInput
from domain.ledger import CreditTransaction
from domain.money import ZERO, total, usd

_WIDE = Context(prec=60)


class SortField(StrEnum):
    CREATED_AT = "created_at"
    AMOUNT = "amount"
    TRANSACTION_TYPE = "transaction_type"


class Direction(StrEnum):
    CREDIT = "credit"  # amount > 0
    CHARGE = "charge"  # amount < 0


class TransactionQuery(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int | None = None
    transaction_type: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    min_amount: Decimal | None = None  # bounds on |amount|, inclusive
    max_amount: Decimal | None = None
    direction: Direction | None = None
    sort_by: SortField = SortField.CREATED_AT
    descending: bool = True

    def matches(self, row: CreditTransaction) -> bool:
        created = row.created_at
        return ((self.user_id is None or row.user_id == self.user_id)
                and (self.transaction_type is None or row.transaction_type.value == self.transaction_type)
                and (self.since is None or (created is not None and created >= self.since))
                and (self.until is None or (created is not None and created < self.until))
                and (self.min_amount is None or abs(row.amount) >= self.min_amount)
                and (self.max_amount is None or abs(row.amount) <= self.max_amount)
                and (self.direction is None
                     or (row.amount > 0 if self.direction is Direction.CREDIT else row.amount < 0)))

    def ordered(self, rows: Iterable[CreditTransaction]) -> list[CreditTransaction]:
        """Sorted by the field, ties by id, both in the requested direction."""
        def key(r: CreditTransaction) -> tuple[object, int]:
            if self.sort_by is SortField.AMOUNT:
                return (r.amount, r.id or 0)
            if self.sort_by is SortField.TRANSACTION_TYPE:
                return (r.transaction_type.value, r.id or 0)
            return (r.created_at or datetime.min.replace(tzinfo=UTC), r.id or 0)
        return sorted(rows, key=key, reverse=self.descending)

    def run(self, rows: Iterable[CreditTransaction], *, limit: int, offset: int) -> list[CreditTransaction]:
        """The whole query over rows in memory (the memory twin, and SQLite where text money cannot be
        compared in SQL)."""
        return self.ordered(r for r in rows if self.matches(r))[offset:offset + limit]


def date_bound(raw: str | None, *, field: str, end: bool) -> datetime | None:
    """`YYYY-MM-DD` or an ISO timestamp (UTC when it names no zone) -> a bound on created_at.

    A start is inclusive. An end is returned exclusive: a date covers its whole UTC day, a timestamp
    is included itself."""
    if raw is None or raw == "":
        return None
    text = raw.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime.combine(day, time.min, tzinfo=UTC)
            return start + timedelta(days=1) if end else start
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput("must be a date (YYYY-MM-DD) or an ISO 8601 timestamp", field=field,
                           loc=["query", field]) from exc
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment + timedelta(microseconds=1) if end else moment


class TypeTotals(msgspec.Struct, frozen=True, kw_only=True):
    count: int
    total: Decimal

    @property
    def average(self) -> Decimal:
        return _mean(self.total, self.count)


class DayTotals(msgspec.Struct, frozen=True, kw_only=True):
    day: date
    credits_added: Decimal
    credits_used: Decimal  # a magnitude: charges are negative rows
    count: int


class LedgerSummary(msgspec.Struct, frozen=True, kw_only=True):
    total_transactions: int = 0
    credits_added: Decimal = ZERO
    credits_used: Decimal = ZERO  # magnitude of the negative rows
    credit_count: int = 0
    charge_count: int = 0
    by_type: dict[str, TypeTotals] = msgspec.field(default_factory=dict)
    daily: list[DayTotals] = msgspec.field(default_factory=list)  # oldest day first
    largest_credit: CreditTransaction | None = None
    largest_charge: CreditTransaction | None = None

    @property
    def net_change(self) -> Decimal:
        return self.credits_added - self.credits_used

    @property
    def average_transaction(self) -> Decimal:
        """Mean size of a transaction, credit or charge."""
        return _mean(self.credits_added + self.credits_used, self.total_transactions)


class SystemBalances(msgspec.Struct, frozen=True, kw_only=True):
    users: int
    total: Decimal

    @property
    def average(self) -> Decimal:
        return _mean(self.total, self.users)


def _mean(amount: Decimal, count: int) -> Decimal:
    if not count:
        return ZERO
    with localcontext(_WIDE):
        return usd(amount / count)


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def summarize(rows: Iterable[CreditTransaction], *, detailed: bool = True) -> LedgerSummary:
    """The summary of rows already filtered. `detailed` adds the daily breakdown and the largest rows."""
    count = credit_count = charge_count = 0
    added = used = ZERO
    types: dict[str, TypeTotals] = {}
    days: dict[date, DayTotals] = {}
    largest_credit: CreditTransaction | None = None
    largest_charge: CreditTransaction | None = None
    for row in rows:
        count += 1
        kind = types.get(row.transaction_type.value, TypeTotals(count=0, total=ZERO))
        types[row.transaction_type.value] = TypeTotals(count=kind.count + 1, total=total((kind.total, row.amount)))
        plus, minus = (row.amount, ZERO) if row.amount > 0 else (ZERO, -row.amount)
        if row.amount > 0:
            credit_count += 1
            added = total((added, row.amount))
            if largest_credit is None or (row.amount, -(row.id or 0)) > (largest_credit.amount,
                                                                         -(largest_credit.id or 0)):
                largest_credit = row
        elif row.amount < 0:
            charge_count += 1
            used = total((used, -row.amount))
            if largest_charge is None or (row.amount, row.id or 0) < (largest_charge.amount, largest_charge.id or 0):
                largest_charge = row
        if detailed and row.created_at is not None:
            day = utc_day(row.created_at)
            was = days.get(day, DayTotals(day=day, credits_added=ZERO, credits_used=ZERO, count=0))
            days[day] = DayTotals(day=day, credits_added=total((was.credits_added, plus)),
                                  credits_used=total((was.credits_used, minus)), count=was.count + 1)
    return LedgerSummary(
        total_transactions=count, credits_added=added, credits_used=used, credit_count=credit_count,
        charge_count=charge_count, by_type=dict(sorted(types.items())),
        daily=[days[d] for d in sorted(days)] if detailed else [],
        largest_credit=largest_credit if detailed else None,
        largest_charge=largest_charge if detailed else None,
    )
