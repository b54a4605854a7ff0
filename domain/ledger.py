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
