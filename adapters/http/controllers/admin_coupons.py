"""Coupons, the admin side: create (#1724), list (#1719), stats (#1720), one (#1721), analytics (#1722),
update (#1725), deactivate (#1726)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromQuery, JSONBody, QueryParameter

from adapters.http.bundles.coupons import CouponsBundle
from adapters.http.params import Limit1000, Offset, RowId
from adapters.http.schemas.coupons import (
    CouponAnalyticsOut,
    CouponOut,
    CouponStatsOut,
    CreateCouponIn,
    DeactivatedOut,
    ListCouponsOut,
    UpdateCouponIn,
)
from domain.api_keys import Principal
from domain.coupons import CouponScope, CouponType


def _admin_id(request: Request[Any, Any, Any]) -> int:
    principal: Principal = request.state.principal
    return principal.user.id


class AdminCouponsController(Controller):
    path = "/admin/coupons"
    tags = ["admin", "coupons"]
    opt = {"auth": "admin"}

    @post("/", operation_id="admin_coupons_create", status_code=200)
    async def create(self, request: Request[Any, Any, Any], coupons_services: CouponsBundle,
                     data: JSONBody[CreateCouponIn]) -> CouponOut:
        coupon = await coupons_services.create_coupon(
            code=data.code, value_usd=data.value_usd, coupon_scope=data.coupon_scope, max_uses=data.max_uses,
            valid_until=data.valid_until, coupon_type=data.coupon_type, assigned_to_user_id=data.assigned_to_user_id,
            description=data.description, valid_from=data.valid_from, created_by=_admin_id(request))
        return CouponOut.of(coupon)

    @get("/", operation_id="admin_coupons_list")
    async def list_coupons(
        self, coupons_services: CouponsBundle,
        coupon_scope: Annotated[CouponScope | None, QueryParameter(name="scope")] = None,  # `scope` is reserved
        coupon_type: FromQuery[CouponType | None] = None,
        is_active: FromQuery[bool | None] = None,
        limit: Limit1000 = 100,
        offset: Offset = 0,
    ) -> ListCouponsOut:
        page = await coupons_services.list_coupons(scope=coupon_scope, coupon_type=coupon_type, is_active=is_active,
                                                 limit=limit, offset=offset)
        return ListCouponsOut(coupons=[CouponOut.of(c) for c in page.coupons], total=len(page.coupons),
                              offset=offset, limit=limit)

    @get("/stats/overview", operation_id="admin_coupons_stats")
    async def stats(self, coupons_services: CouponsBundle) -> CouponStatsOut:
        return CouponStatsOut.of(await coupons_services.get_coupon_stats())

    @get("/{coupon_id:int}", operation_id="admin_coupons_show")
    async def show(self, coupons_services: CouponsBundle, coupon_id: RowId) -> CouponOut:
        return CouponOut.of(await coupons_services.get_coupon(coupon_id))

    @get("/{coupon_id:int}/analytics", operation_id="admin_coupons_analytics")
    async def analytics(self, coupons_services: CouponsBundle, coupon_id: RowId) -> CouponAnalyticsOut:
        return CouponAnalyticsOut.of(await coupons_services.get_coupon_analytics(coupon_id))

    @patch("/{coupon_id:int}", operation_id="admin_coupons_update")
    async def update(self, request: Request[Any, Any, Any], coupons_services: CouponsBundle, coupon_id: RowId,
                     data: JSONBody[UpdateCouponIn]) -> CouponOut:
        coupon = await coupons_services.update_coupon(coupon_id, data.to_domain(), updated_by=_admin_id(request))
        return CouponOut.of(coupon)

    @delete("/{coupon_id:int}", operation_id="admin_coupons_deactivate", status_code=200)
    async def deactivate(self, request: Request[Any, Any, Any], coupons_services: CouponsBundle,
                         coupon_id: RowId) -> DeactivatedOut:
        await coupons_services.deactivate_coupon(coupon_id, deactivated_by=_admin_id(request))
        return DeactivatedOut(success=True, message="Coupon deactivated successfully")
