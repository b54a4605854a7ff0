"""Coupons, the user side: redeem a code (#1723), the coupons on offer (#1717), the history (#1718)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody

from adapters.http.bundles.coupons import CouponsBundle
from adapters.http.guards import client_ip
from adapters.http.params import Limit1000
from adapters.http.schemas.coupons import (
    AvailableCouponOut,
    RedeemCouponIn,
    RedemptionHistoryOut,
    RedemptionOut,
)
from adapters.http.schemas.money import money
from domain.api_keys import Principal
from domain.coupons import CouponRejected


def _user_id(request: Request[Any, Any, Any]) -> int:
    principal: Principal = request.state.principal
    return principal.user.id


class CouponsController(Controller):
    path = "/coupons"
    tags = ["coupons"]
    opt = {"auth": "user"}

    @post("/redeem", operation_id="coupons_redeem", status_code=200)
    async def redeem(self, request: Request[Any, Any, Any], coupons_services: CouponsBundle,
                     data: JSONBody[RedeemCouponIn]) -> Response[RedemptionOut]:
        try:
            done = await coupons_services.redeem_coupon(
                user_id=_user_id(request), code=data.code, ip_address=client_ip(request),
                user_agent=request.headers.get("user-agent"))
        except CouponRejected as refused:  # the seed answers a refusal with its own body and a 400
            return Response(RedemptionOut(success=False, message=refused.message, coupon_code=data.code,
                                          error_code=refused.code), status_code=400)
        row = done.transaction
        return Response(RedemptionOut(
            success=True, message="Coupon redeemed successfully!", coupon_code=done.coupon_code,
            coupon_value=money(row.amount), previous_balance=money(row.balance_before),
            new_balance=money(row.balance_after)), status_code=200)

    @get("/available", operation_id="coupons_available")
    async def available(self, request: Request[Any, Any, Any],
                        coupons_services: CouponsBundle) -> list[AvailableCouponOut]:
        return [AvailableCouponOut.of(c) for c in await coupons_services.list_available_coupons(_user_id(request))]

    @get("/history", operation_id="coupons_history")
    async def history(self, request: Request[Any, Any, Any], coupons_services: CouponsBundle,
                      limit: Limit1000 = 50) -> RedemptionHistoryOut:
        return RedemptionHistoryOut.of(await coupons_services.get_redemption_history(_user_id(request), limit=limit))
