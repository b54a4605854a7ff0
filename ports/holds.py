"""Open holds and the balance they are checked against, shared by every gateway process."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from domain.holds import Hold, Reservation


class HoldStore(Protocol):
    async def reserve(self, user_id: int, request_id: str, amount: Decimal, *, now: float,
                      ttl_s: float) -> Reservation:
        """Atomically: drop expired holds, then hold `amount` if balance - open holds covers it.
        Raises domain.holds.BalanceUnknown when the balance has not been primed."""
        ...

    async def prime(self, user_id: int, balance: Decimal) -> None:
        """Set the balance to check against, unless one is already set."""
        ...

    async def settle(self, user_id: int, request_id: str, charged: Decimal) -> bool:
        """Close the hold and take `charged` off the balance (zero: a plain release). Idempotent:
        False when this request was settled before (nothing changes)."""
        ...

    async def forget_balance(self, user_id: int) -> None:
        """The ledger changed outside settlement (grant, refund, coupon): re-prime on next use."""
        ...

    async def held(self, user_id: int, *, now: float) -> Decimal:
        """The total of one user's unexpired holds (for /user/balance: one user, no scan)."""
        ...

    async def open_holds(self, *, now: float) -> list[Hold]:
        """Every unexpired hold (for `gatewayz ledger verify`)."""
        ...
