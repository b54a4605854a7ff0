"""Coupons: redemption credits the ledger in one transaction, then drops cached balances."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.http.area import Area
from adapters.http.bundles.coupons import CouponsServices
from adapters.http.controllers.admin_coupons import AdminCouponsController
from adapters.http.controllers.coupons import CouponsController
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


class CouponsArea(containers.DeclarativeContainer):
    uow = providers.Dependency()
    clock = providers.Dependency()
    bus = providers.Dependency()
    holds = providers.Dependency()

    redeem_coupon = providers.Singleton(RedeemCoupon, uow, clock, bus, holds)
    list_available_coupons = providers.Singleton(ListAvailableCoupons, uow, clock)
    get_redemption_history = providers.Singleton(GetRedemptionHistory, uow)
    create_coupon = providers.Singleton(CreateCoupon, uow, clock)
    list_coupons = providers.Singleton(ListCoupons, uow)
    get_coupon = providers.Singleton(GetCoupon, uow)
    get_coupon_stats = providers.Singleton(GetCouponStats, uow)
    get_coupon_analytics = providers.Singleton(GetCouponAnalytics, uow, clock)
    update_coupon = providers.Singleton(UpdateCoupon, uow, clock)
    deactivate_coupon = providers.Singleton(DeactivateCoupon, uow, clock)
    bundle = providers.Singleton(
        CouponsServices, redeem_coupon, list_available_coupons, get_redemption_history, create_coupon,
        list_coupons, get_coupon, get_coupon_stats, get_coupon_analytics, update_coupon, deactivate_coupon)


HTTP = Area("coupons", [CouponsController, AdminCouponsController])
