"""Memory twin of the coupon repository (the memory unit of work serialises every transaction)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from adapters.memory.store import MemoryStore
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
    is_available,
    normalize_code,
)
from domain.errors import Conflict
from domain.money import total


class MemoryCouponRepository:
    def __init__(self, store: MemoryStore) -> None:
        self._s = store

    def _put(self, coupon: Coupon) -> Coupon:
        self._s.coupons = {**self._s.coupons, coupon.id: coupon}
        return coupon

    async def add(self, new: NewCoupon, *, now: datetime) -> Coupon:
        code = normalize_code(new.code)
        if any(c.code == code for c in self._s.coupons.values()):
            raise Conflict(f"Coupon code {code} already exists", code="duplicate_coupon_code")
        return self._put(Coupon(
            id=self._s.next_id("coupons"), code=code, value_usd=new.value_usd, coupon_scope=new.coupon_scope,
            coupon_type=new.coupon_type, max_uses=new.max_uses, times_used=0, valid_from=new.valid_from,
            valid_until=new.valid_until, is_active=True, created_at=now,
            assigned_to_user_id=new.assigned_to_user_id, created_by=new.created_by,
            created_by_type=new.created_by_type, description=new.description,
        ))

    async def get(self, coupon_id: int) -> Coupon | None:
        return self._s.coupons.get(coupon_id)

    async def get_for_update(self, coupon_id: int) -> Coupon | None:
        return self._s.coupons.get(coupon_id)

    async def get_by_code(self, code: str) -> Coupon | None:
        code = normalize_code(code)
        return next((c for c in self._s.coupons.values() if c.code == code), None)

    async def list(self, *, limit: int, offset: int, scope: CouponScope | None = None,
                   coupon_type: CouponType | None = None, is_active: bool | None = None) -> list[Coupon]:
        rows = [c for c in self._s.coupons.values()
                if (scope is None or c.coupon_scope is scope) and (coupon_type is None or c.coupon_type is coupon_type)
                and (is_active is None or c.is_active == is_active)]
        rows.sort(key=lambda c: (c.created_at, c.id), reverse=True)
        return rows[offset:offset + limit]

    async def update(self, coupon_id: int, changes: CouponChanges, *, now: datetime) -> Coupon | None:
        coupon = self._s.coupons.get(coupon_id)
        if coupon is None:
            return None
        return self._put(msgspec.structs.replace(coupon, **changes.as_dict()))

    async def deactivate(self, coupon_id: int, *, now: datetime) -> bool:
        coupon = self._s.coupons.get(coupon_id)
        if coupon is None or not coupon.is_active:
            return False
        self._put(msgspec.structs.replace(coupon, is_active=False))
        return True

    async def claim_use(self, coupon_id: int, *, now: datetime) -> Coupon | None:
        coupon = self._s.coupons.get(coupon_id)
        if (coupon is None or not coupon.is_active or not coupon.valid_from <= now <= coupon.valid_until
                or coupon.times_used >= coupon.max_uses):
            return None
        return self._put(msgspec.structs.replace(coupon, times_used=coupon.times_used + 1))

    async def has_redeemed(self, coupon_id: int, user_id: int) -> bool:
        return any(r.coupon_id == coupon_id and r.user_id == user_id for r in self._s.redemptions)

    async def add_redemption(self, redemption: Redemption) -> Redemption:
        # the unique (coupon_id, user_id) constraint
        if any(r.coupon_id == redemption.coupon_id and r.user_id == redemption.user_id for r in self._s.redemptions):
            raise Conflict("You have already redeemed this coupon", code="already_redeemed")
        stored = msgspec.structs.replace(redemption, id=self._s.next_id("coupon_redemptions"))
        self._s.redemptions = [*self._s.redemptions, stored]
        return stored

    async def available_for(self, user_id: int, *, now: datetime) -> list[Coupon]:
        redeemed = {r.coupon_id for r in self._s.redemptions if r.user_id == user_id}
        rows = [c for c in self._s.coupons.values()
                if is_available(c, user_id=user_id, now=now, already_redeemed=c.id in redeemed)]
        rows.sort(key=lambda c: (-c.value_usd, c.valid_until, c.id))
        return rows

    async def history_for(self, user_id: int, *, limit: int) -> list[RedemptionEntry]:
        mine = sorted((r for r in self._s.redemptions if r.user_id == user_id),
                      key=lambda r: (r.redeemed_at, r.id), reverse=True)[:limit]
        entries = []
        for r in mine:
            coupon = self._s.coupons[r.coupon_id]
            entries.append(RedemptionEntry(redemption=r, coupon_code=coupon.code, coupon_scope=coupon.coupon_scope,
                                           coupon_type=coupon.coupon_type))
        return entries

    async def usage(self, coupon_id: int) -> CouponUsage:
        rows = [r for r in self._s.redemptions if r.coupon_id == coupon_id]
        return CouponUsage(total_redemptions=len(rows), unique_users=len({r.user_id for r in rows}),
                           total_value_distributed=total(r.value_applied for r in rows))

    async def stats(self) -> CouponStats:
        coupons = list(self._s.coupons.values())
        rows = self._s.redemptions
        return CouponStats(
            total_coupons=len(coupons), active_coupons=sum(c.is_active for c in coupons),
            user_specific_coupons=sum(c.coupon_scope is CouponScope.USER_SPECIFIC for c in coupons),
            global_coupons=sum(c.coupon_scope is CouponScope.GLOBAL for c in coupons),
            total_redemptions=len(rows), unique_redeemers=len({r.user_id for r in rows}),
            total_value_distributed=total(r.value_applied for r in rows),
        )
