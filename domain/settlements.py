"""Settlements on their way to the ledger.

A `PendingCharge` is a charge decided at settlement and not yet in the ledger. With Redis, the
script that closes a request's hold appends a `SettledRequest` (its charge and its request row) to
a durable journal in the same atomic call, and a hold that lapses without a settlement becomes an
`ExpiredHold` on the same journal; writers in every process drain the journal into the database
(`JournalEntry` is one delivered item, acknowledged only once it is written)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from domain.requests import RequestRecord

HOLD_EXPIRED = "hold_expired"  # the audit event of a hold that lapsed without a settlement


class PendingCharge(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    request_id: str
    amount: Decimal          # positive: what the request cost
    created_at: datetime
    description: str = ""
    created_by: str | None = None
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)


class SettledRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the ledger row and the request row need, journaled with the hold's release."""

    record: RequestRecord
    charge: PendingCharge | None = None  # None: released without charge (failed, no output)


class ExpiredHold(msgspec.Struct, frozen=True, kw_only=True):
    """A hold that lapsed unsettled: its process died between admission and settlement."""

    user_id: int
    request_id: str
    amount: Decimal
    expired_at: float  # epoch seconds


class JournalEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One delivered journal item. `item` None: unreadable (logged and acknowledged, never retried)."""

    id: str
    item: SettledRequest | ExpiredHold | None
