"""Read-side coupon use cases: the admin list, one coupon, stats, analytics (#1719-#1722), and the
user's available coupons and redemption history (#1717, #1718)."""

from __future__ import annotations

import msgspec

from domain import not_found
from domain.coupons import (
    Coupon,
    CouponAnalytics,
    CouponScope,
    CouponStats,
    CouponType,
    RedemptionHistory,
    analytics,
)
from domain.errors import InvalidInput
from ports.clock import Clock
from ports.uow import UnitOfWorkFactory

MAX_PAGE = 1000


def _page_bounds(limit: int, offset: int = 0) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}", field="limit", loc=["query", "limit"])
    if offset < 0:
        raise InvalidInput("offset must be >= 0", field="offset", loc=["query", "offset"])


class CouponPage(msgspec.Struct, frozen=True, kw_only=True):
    coupons: list[Coupon]
    limit: int
    offset: int


class ListCoupons:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, *, scope: CouponScope | None = None, coupon_type: CouponType | None = None,
                       is_active: bool | None = None, limit: int = 100, offset: int = 0) -> CouponPage:
        _page_bounds(limit, offset)
        async with self._uow() as uow:
            rows = await uow.coupons.list(limit=limit, offset=offset, scope=scope, coupon_type=coupon_type,
                                          is_active=is_active)
        return CouponPage(coupons=rows, limit=limit, offset=offset)


class GetCoupon:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, coupon_id: int) -> Coupon:
        async with self._uow() as uow:
            coupon = await uow.coupons.get(coupon_id)
        if coupon is None:
            raise not_found.coupon()
        return coupon


class GetCouponStats:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self) -> CouponStats:
        async with self._uow() as uow:
            return await uow.coupons.stats()


class GetCouponAnalytics:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, coupon_id: int) -> CouponAnalytics:
        async with self._uow() as uow:
            coupon = await uow.coupons.get(coupon_id)
            if coupon is None:
                raise not_found.coupon()
            usage = await uow.coupons.usage(coupon_id)
        return analytics(coupon, usage, now=self._clock.now())


class ListAvailableCoupons:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, user_id: int) -> list[Coupon]:
        async with self._uow() as uow:
            return await uow.coupons.available_for(user_id, now=self._clock.now())


class GetRedemptionHistory:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, user_id: int, *, limit: int = 50) -> RedemptionHistory:
        _page_bounds(limit)
        async with self._uow() as uow:
            return RedemptionHistory(entries=await uow.coupons.history_for(user_id, limit=limit))
