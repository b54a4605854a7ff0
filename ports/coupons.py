"""Persistence of coupons and their redemptions (bound to a unit of work, like the ledger)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.coupons import (
    Coupon,
    CouponChanges,
    CouponScope,
    CouponStats,
    CouponType,
    CouponUsage,
    NewCoupon,
    Redemption,
    RedemptionEntry,
)


class CouponRepository(Protocol):
    async def add(self, new: NewCoupon, *, now: datetime) -> Coupon:
        """Insert with times_used 0; raises Conflict (code duplicate_coupon_code) when the code exists."""
        ...

    async def get(self, coupon_id: int) -> Coupon | None: ...

    async def get_for_update(self, coupon_id: int) -> Coupon | None:
        """Read the row and lock it until the unit of work ends (admin changes vs redemptions)."""
        ...

    async def get_by_code(self, code: str) -> Coupon | None:
        """Case-insensitive: codes are stored upper-case."""
        ...

    async def update(self, coupon_id: int, changes: CouponChanges, *, now: datetime) -> Coupon | None:
        """Apply the set fields; None when there is no such coupon."""
        ...

    async def deactivate(self, coupon_id: int, *, now: datetime) -> bool:
        """False when there is no such coupon or it was already inactive."""
        ...

    async def claim_use(self, coupon_id: int, *, now: datetime) -> Coupon | None:
        """Atomically take one use: `times_used + 1` only while the coupon is active, inside its window
        and `times_used < max_uses` (evaluated against the latest committed row, so concurrent claims
        never exceed max_uses). Returns the coupon after the increment, or None when nothing was taken."""
        ...

    async def has_redeemed(self, coupon_id: int, user_id: int) -> bool: ...

    async def add_redemption(self, redemption: Redemption) -> Redemption:
        """Insert; raises Conflict (code already_redeemed) when this user already redeemed this coupon.
        After that Conflict the unit of work must be rolled back."""
        ...

    async def available_for(self, user_id: int, *, now: datetime) -> list[Coupon]:
        """Active, inside their window, not used up, assigned to this user or global, and not yet
        redeemed by this user; the most valuable first, then the soonest to expire."""
        ...

    async def history_for(self, user_id: int, *, limit: int) -> list[RedemptionEntry]:
        """This user's redemptions, newest first."""
        ...

    async def usage(self, coupon_id: int) -> CouponUsage: ...

    async def stats(self) -> CouponStats: ...

    async def list(self, *, limit: int, offset: int, scope: CouponScope | None = None,
                   coupon_type: CouponType | None = None, is_active: bool | None = None) -> list[Coupon]:
        """Newest first. (Last in the class: the name shadows the builtin in later annotations.)"""
        ...
