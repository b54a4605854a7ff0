"""Coupons: redemption and history for users, issuing and analytics for admins."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.di import NamedDependency

from domain.services.coupon_queries import (
    GetCoupon,
    GetCouponAnalytics,
    GetCouponStats,
    GetRedemptionHistory,
    ListAvailableCoupons,
    ListCoupons,
)
from domain.services.create_coupon import CreateCoupon
from domain.services.deactivate_coupon import DeactivateCoupon
from domain.services.redeem_coupon import RedeemCoupon
from domain.services.update_coupon import UpdateCoupon


@dataclass(frozen=True, slots=True)
class CouponsServices:
    redeem_coupon: RedeemCoupon
    list_available_coupons: ListAvailableCoupons
    get_redemption_history: GetRedemptionHistory
    create_coupon: CreateCoupon
    list_coupons: ListCoupons
    get_coupon: GetCoupon
    get_coupon_stats: GetCouponStats
    get_coupon_analytics: GetCouponAnalytics
    update_coupon: UpdateCoupon
    deactivate_coupon: DeactivateCoupon


# what a handler writes to receive it (`coupons_services: CouponsBundle`)
CouponsBundle = NamedDependency[CouponsServices]
