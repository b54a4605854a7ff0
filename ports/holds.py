"""Open holds and the balance they are checked against, shared by every gateway process."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from domain.holds import Hold, Reservation
from domain.settlements import SettledRequest


class HoldStore(Protocol):
    journaled: bool
    """True when `settle(entry=...)` appends the entry to the durable settlement journal in the same
    atomic call: the caller then writes neither the ledger row nor the request row itself."""

    async def reserve(self, user_id: int, request_id: str, amount: Decimal, *, now: float,
                      ttl_s: float) -> Reservation:
        """Atomically: drop expired holds, then hold `amount` if balance - open holds covers it.
        Raises domain.holds.BalanceUnknown when the balance has not been primed."""
        ...

    async def prime(self, user_id: int, balance: Decimal) -> None:
        """Set the balance to check against, unless one is already set."""
        ...

    async def settle(self, user_id: int, request_id: str, charged: Decimal, *,
                     entry: SettledRequest | None = None) -> bool:
        """Close the hold and take `charged` off the balance (zero: a plain release); when journaled,
        append `entry` to the journal and add its charge to the user's unposted total, atomically
        with the release. Idempotent: False when this request was settled before (nothing changes)."""
        ...

    async def expire(self, *, now: float, limit: int = 500) -> int:
        """Journal up to `limit` holds that lapsed unsettled (as ExpiredHold) and drop them; returns
        how many. Without a journal: 0."""
        ...

    async def unposted(self, user_id: int) -> Decimal:
        """Charges of this user journaled and not yet acknowledged as written to the ledger (read
        before the ledger when priming the balance: the balance can only come out lower)."""
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
