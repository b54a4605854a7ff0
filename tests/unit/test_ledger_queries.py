"""The pure rules of the ledger reads: date bounds, filters and the summary's arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.errors import InvalidInput
from domain.ledger import CreditTransaction, TransactionType
from domain.ledger_queries import Direction, TransactionQuery, date_bound, summarize


def test_a_date_covers_its_whole_utc_day_and_a_timestamp_includes_itself() -> None:
    assert date_bound("2026-03-01", field="from_date", end=False) == datetime(2026, 3, 1, tzinfo=UTC)
    assert date_bound("2026-03-01", field="to_date", end=True) == datetime(2026, 3, 2, tzinfo=UTC)
    moment = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert date_bound("2026-03-01T12:30:00Z", field="from_date", end=False) == moment
    assert date_bound("2026-03-01T12:30:00", field="from_date", end=False) == moment  # naive: UTC
    assert date_bound("2026-03-01T14:30:00+02:00", field="to_date", end=True) == moment + timedelta(microseconds=1)
    assert date_bound(None, field="to_date", end=True) is None and date_bound("", field="x", end=False) is None
    for raw in ("yesterday", "2026-13-01", "01-03-2026", "2026-03-01T25:00"):
        with pytest.raises(InvalidInput) as caught:
            date_bound(raw, field="from_date", end=False)
        assert caught.value.details["loc"] == ["query", "from_date"]


def row(id_: int, amount: str, at: datetime, kind: TransactionType = TransactionType.API_USAGE) -> CreditTransaction:
    return CreditTransaction(id=id_, user_id=1, amount=Decimal(amount), transaction_type=kind,
                             balance_before=Decimal(0), balance_after=Decimal(0), created_at=at)


def test_the_summary_adds_exactly_and_breaks_ties_by_the_earliest_row() -> None:
    t = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
    rows = [row(1, "0.1", t, TransactionType.ADMIN_CREDIT), row(2, "0.2", t, TransactionType.ADMIN_CREDIT),
            row(3, "-0.3", t + timedelta(minutes=2)), row(4, "0.2", t + timedelta(minutes=3), TransactionType.BONUS),
            row(5, "-0.3", t + timedelta(minutes=4)), row(6, "0", t)]
    s = summarize(rows)
    assert (s.total_transactions, s.credits_added, s.credits_used, s.net_change) == (
        6, Decimal("0.5"), Decimal("0.6"), Decimal("-0.1"))
    assert (s.credit_count, s.charge_count) == (3, 2)
    assert s.largest_credit is not None and s.largest_credit.id == 2
    assert s.largest_charge is not None and s.largest_charge.id == 3
    assert [(d.day.isoformat(), d.credits_added, d.credits_used, d.count) for d in s.daily] == [
        ("2026-03-01", Decimal("0.3"), 0, 3), ("2026-03-02", Decimal("0.2"), Decimal("0.6"), 3)]
    assert s.by_type["admin_credit"].average == Decimal("0.15")
    assert s.average_transaction == Decimal("0.1833333333")
    assert summarize([]).average_transaction == 0


def test_direction_and_amount_bounds_use_the_magnitude() -> None:
    t = datetime(2026, 3, 1, tzinfo=UTC)
    rows = [row(1, "5", t), row(2, "-5", t), row(3, "-7", t), row(4, "0", t)]
    q = TransactionQuery(min_amount=Decimal(5), max_amount=Decimal(6))
    assert [r.id for r in q.run(rows, limit=10, offset=0)] == [2, 1]
    assert [r.id for r in TransactionQuery(direction=Direction.CHARGE).run(rows, limit=10, offset=0)] == [3, 2]
    assert [r.id for r in TransactionQuery(direction=Direction.CREDIT).run(rows, limit=10, offset=0)] == [1]
