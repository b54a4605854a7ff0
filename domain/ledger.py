"""The credits ledger: every balance change is one append-only row that explains it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import msgspec


class TransactionType(StrEnum):
    API_USAGE = "api_usage"
    ADMIN_CREDIT = "admin_credit"
    ADMIN_DEBIT = "admin_debit"
    REFUND = "refund"
    BONUS = "bonus"
    PURCHASE = "purchase"
    COUPON = "coupon"
    TRIAL = "trial"


class CreditTransaction(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    amount: Decimal
    transaction_type: TransactionType
    balance_before: Decimal
    balance_after: Decimal
    description: str = ""
    request_id: str | None = None
    created_by: str | None = None
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    created_at: datetime | None = None
    id: int | None = None


class Balances(msgspec.Struct, frozen=True, kw_only=True):
    subscription_allowance: Decimal
    purchased_credits: Decimal

    @property
    def total(self) -> Decimal:
        return self.subscription_allowance + self.purchased_credits


# Money of these kinds converts an open trial (refunds give back what was spent; trial credit is the trial).
CONVERTING_KINDS = frozenset({TransactionType.ADMIN_CREDIT, TransactionType.PURCHASE, TransactionType.COUPON,
                              TransactionType.BONUS})


def apply(balances: Balances, amount: Decimal, *, kind: TransactionType | None = None) -> Balances:
    """The balances after a signed change.

    Credits (grants, refunds, coupons, purchases) add to purchased credits; a trial's starter credit
    goes into the subscription allowance. Charges spend the
    subscription allowance first, then purchased credits; a charge larger than both (an upstream
    that ignored max_tokens) leaves purchased credits negative rather than losing the difference."""
    if amount >= 0 and kind is TransactionType.TRIAL:
        return Balances(subscription_allowance=balances.subscription_allowance + amount,
                        purchased_credits=balances.purchased_credits)
    if amount >= 0:
        return Balances(subscription_allowance=balances.subscription_allowance,
                        purchased_credits=balances.purchased_credits + amount)
    charge = -amount
    from_allowance = min(charge, max(balances.subscription_allowance, Decimal(0)))
    return Balances(subscription_allowance=balances.subscription_allowance - from_allowance,
                    purchased_credits=balances.purchased_credits - (charge - from_allowance))
