"""Wire shapes of the credit endpoints: POST /admin/add_credits (#1600), /credits/* (#1727-#1732),
and a user's own balance and transactions. Money goes out as exact JSON numbers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec

from adapters.http.params import RowIdField
from adapters.http.schemas.money import money
from domain.credits import MAX_BULK_USERS, MIN_REASON, BulkGrant, CreditChange, plain
from domain.ledger import CreditTransaction
from domain.ledger_queries import LedgerSummary, TypeTotals

Reason = Annotated[str, msgspec.Meta(min_length=MIN_REASON)]
UserIds = Annotated[list[RowIdField], msgspec.Meta(min_length=1, max_length=MAX_BULK_USERS)]


class AdminAddCreditsIn(msgspec.Struct, kw_only=True):
    api_key: str
    credits: Decimal
    reason: Reason


class CreditAddIn(msgspec.Struct, kw_only=True):
    user_id: RowIdField
    amount: Decimal
    reason: Reason
    description: str = "Admin credit addition"
    metadata: dict[str, Any] | None = None


class CreditAdjustIn(msgspec.Struct, kw_only=True):
    user_id: RowIdField
    amount: Decimal
    reason: Reason
    description: str = "Admin credit adjustment"
    metadata: dict[str, Any] | None = None


class BulkAddIn(msgspec.Struct, kw_only=True):
    user_ids: UserIds
    amount: Decimal
    reason: Reason
    description: str = "Bulk credit addition"
    metadata: dict[str, Any] | None = None


class RefundIn(msgspec.Struct, kw_only=True):
    user_id: RowIdField
    amount: Decimal
    original_transaction_id: RowIdField | None = None
    reason: str = "Refund"
    metadata: dict[str, Any] | None = None


class AdminAddCreditsOut(msgspec.Struct, kw_only=True):
    status: str
    message: str
    new_balance: msgspec.Raw
    user_id: int
    reason: str

    @classmethod
    def of(cls, c: CreditChange) -> AdminAddCreditsOut:
        return cls(status="success", message=f"Added {plain(c.amount)} credits to user {c.username}",
                   new_balance=money(c.new_balance), user_id=c.user_id, reason=c.reason)


class CreditOut(msgspec.Struct, kw_only=True):
    status: str
    message: str
    user_id: int
    previous_balance: msgspec.Raw
    new_balance: msgspec.Raw
    amount_changed: msgspec.Raw
    transaction_id: int | None
    timestamp: datetime

    @classmethod
    def of(cls, c: CreditChange, message: str) -> CreditOut:
        return cls(status="success", message=message, user_id=c.user_id, previous_balance=money(c.previous_balance),
                   new_balance=money(c.new_balance), amount_changed=money(c.amount), transaction_id=c.transaction_id,
                   timestamp=c.timestamp)


class BulkCreditOut(msgspec.Struct, kw_only=True):
    status: str
    message: str
    total_users: int
    successful: int
    failed: int
    amount_per_user: msgspec.Raw
    total_credits_added: msgspec.Raw
    results: list[dict[str, Any]]
    timestamp: datetime

    @classmethod
    def of(cls, g: BulkGrant) -> BulkCreditOut:
        results: list[dict[str, Any]] = []
        for o in g.outcomes:
            if o.succeeded:
                results.append({"user_id": o.user_id, "status": "success",
                                "previous_balance": money(o.previous_balance or Decimal(0)),
                                "new_balance": money(o.new_balance or Decimal(0)),
                                "transaction_id": o.transaction_id})
            else:
                results.append({"user_id": o.user_id, "status": "failed", "error": o.error})
        return cls(status=g.status,
                   message=f"Added {plain(g.amount)} credits to {g.successful} of {len(g.outcomes)} users",
                   total_users=len(g.outcomes), successful=g.successful, failed=g.failed,
                   amount_per_user=money(g.amount), total_credits_added=money(g.total_added), results=results,
                   timestamp=g.timestamp)


def transaction_out(t: CreditTransaction) -> dict[str, Any]:
    return {"id": t.id, "user_id": t.user_id, "amount": money(t.amount), "transaction_type": t.transaction_type.value,
            "description": t.description, "balance_before": money(t.balance_before),
            "balance_after": money(t.balance_after), "created_at": t.created_at, "payment_id": None,
            "metadata": t.metadata, "created_by": t.created_by}


class PageOut(msgspec.Struct, kw_only=True):
    total: int  # rows in this page, as the seed counts
    limit: int
    offset: int
    has_more: bool


class TransactionsOut(msgspec.Struct, kw_only=True):
    status: str
    transactions: list[dict[str, Any]]
    pagination: PageOut
    filters_applied: dict[str, Any]
    timestamp: datetime


def _by_type(totals: dict[str, TypeTotals], *, with_average: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind, t in totals.items():
        out[kind] = {"count": t.count, "total_amount": money(t.total)}
        if with_average:
            out[kind]["average_amount"] = money(t.average)
    return out


def user_summary_out(s: LedgerSummary) -> dict[str, Any]:
    return {
        "total_transactions": s.total_transactions,
        "total_credits_added": money(s.credits_added),
        "total_credits_used": money(s.credits_used),
        "net_change": money(s.net_change),
        "by_type": _by_type(s.by_type, with_average=True),
        "daily_breakdown": [{"date": d.day.isoformat(), "credits_added": money(d.credits_added),
                             "credits_used": money(d.credits_used), "count": d.count} for d in s.daily],
        "largest_credit": transaction_out(s.largest_credit) if s.largest_credit else None,
        "largest_charge": transaction_out(s.largest_charge) if s.largest_charge else None,
        "average_transaction": money(s.average_transaction),
        "transaction_count_by_direction": {"credits": s.credit_count, "charges": s.charge_count},
    }


def system_summary_out(s: LedgerSummary, users: int, balance: Decimal, average: Decimal) -> dict[str, Any]:
    return {
        "total_users": users,
        "total_credits_in_system": money(balance),
        "average_credits_per_user": money(average),
        "total_transactions": s.total_transactions,
        "total_credits_added": money(s.credits_added),
        "total_credits_used": money(s.credits_used),
        "net_change": money(s.net_change),
        "by_type": _by_type(s.by_type, with_average=False),
    }


class BalanceOut(msgspec.Struct, kw_only=True):
    user_id: int
    credits: msgspec.Raw
    subscription_allowance: msgspec.Raw
    purchased_credits: msgspec.Raw
    held: msgspec.Raw


class OwnTransactionsOut(msgspec.Struct, kw_only=True):
    transactions: list[dict[str, Any]]
    pagination: PageOut
