"""Credit holds: money set aside at admission so concurrent requests can never overdraw."""

from __future__ import annotations

from decimal import Decimal

import msgspec


class Hold(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    request_id: str
    amount: Decimal
    expires_at: float  # epoch seconds; a crashed process's holds lapse on their own


class Reservation(msgspec.Struct, frozen=True, kw_only=True):
    accepted: bool
    available: Decimal  # balance minus open holds, before this reservation
    held: Decimal = Decimal(0)


class BalanceUnknown(Exception):
    """The hold store has no balance for this user yet: prime it from the ledger and retry."""
