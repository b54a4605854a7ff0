"""Wire shapes of coupons: the user side (#1717, #1718, #1723) and the admin side (#1719-#1722,
#1724-#1726). Field names are the seed's; money is an exact JSON number."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import msgspec

from adapters.http.params import RowIdField
from adapters.http.schemas.money import money
from domain.coupons import (
    CODE_MAX,
    CODE_MIN,
    DESCRIPTION_MAX,
    Coupon,
    CouponAnalytics,
    CouponChanges,
    CouponScope,
    CouponStats,
    CouponType,
    RedemptionEntry,
    RedemptionHistory,
)

# no control characters in codes, no NUL in text (PostgreSQL text cannot hold it)
Code = Annotated[str, msgspec.Meta(min_length=CODE_MIN, max_length=CODE_MAX, pattern=r"^[^\x00-\x1f\x7f]*$")]
Description = Annotated[str, msgspec.Meta(max_length=DESCRIPTION_MAX, pattern=r"^[^\x00]*$")]
PositiveInt = Annotated[int, msgspec.Meta(gt=0, le=2**31 - 1)]  # an INTEGER column

# --- requests ---------------------------------------------------------------------------------------


class RedeemCouponIn(msgspec.Struct, kw_only=True):
    code: Code


class CreateCouponIn(msgspec.Struct, kw_only=True):
    code: Code
    value_usd: Decimal
    coupon_scope: CouponScope
    max_uses: PositiveInt
    valid_until: datetime
    coupon_type: CouponType = CouponType.PROMOTIONAL
    assigned_to_user_id: RowIdField | None = None
    description: Description | None = None
    valid_from: datetime | None = None


class UpdateCouponIn(msgspec.Struct, kw_only=True):
    """Only the fields sent are changed (the seed's exclude_unset); other fields are ignored."""

    valid_until: datetime | msgspec.UnsetType = msgspec.UNSET
    max_uses: PositiveInt | msgspec.UnsetType = msgspec.UNSET
    is_active: bool | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType | None = msgspec.UNSET

    def to_domain(self) -> CouponChanges:
        return CouponChanges(valid_until=self.valid_until, max_uses=self.max_uses, is_active=self.is_active,
                             description=self.description)


# --- responses --------------------------------------------------------------------------------------


class CouponOut(msgspec.Struct, kw_only=True):
    id: int
    code: str
    value_usd: msgspec.Raw
    coupon_scope: str
    coupon_type: str
    max_uses: int
    times_used: int
    valid_from: datetime
    valid_until: datetime
    is_active: bool
    created_at: datetime
    assigned_to_user_id: int | None
    created_by: int | None
    created_by_type: str
    description: str | None

    @classmethod
    def of(cls, c: Coupon) -> CouponOut:
        return cls(id=c.id, code=c.code, value_usd=money(c.value_usd), coupon_scope=c.coupon_scope.value,
                   coupon_type=c.coupon_type.value, max_uses=c.max_uses, times_used=c.times_used,
                   valid_from=c.valid_from, valid_until=c.valid_until, is_active=c.is_active, created_at=c.created_at,
                   assigned_to_user_id=c.assigned_to_user_id, created_by=c.created_by,
                   created_by_type=c.created_by_type.value, description=c.description)


class ListCouponsOut(msgspec.Struct, kw_only=True):
    coupons: list[CouponOut]
    total: int  # as the seed: the number returned, not the number in the database
    offset: int
    limit: int


class CouponStatsOut(msgspec.Struct, kw_only=True):
    total_coupons: int
    active_coupons: int
    user_specific_coupons: int
    global_coupons: int
    total_redemptions: int
    unique_redeemers: int
    total_value_distributed: msgspec.Raw
    average_redemption_value: msgspec.Raw

    @classmethod
    def of(cls, s: CouponStats) -> CouponStatsOut:
        return cls(total_coupons=s.total_coupons, active_coupons=s.active_coupons,
                   user_specific_coupons=s.user_specific_coupons, global_coupons=s.global_coupons,
                   total_redemptions=s.total_redemptions, unique_redeemers=s.unique_redeemers,
                   total_value_distributed=money(s.total_value_distributed),
                   average_redemption_value=money(s.average_redemption_value))


class CouponAnalyticsOut(msgspec.Struct, kw_only=True):
    coupon: CouponOut
    total_redemptions: int
    unique_users: int
    total_value_distributed: msgspec.Raw
    redemption_rate: float
    remaining_uses: int
    is_expired: bool

    @classmethod
    def of(cls, a: CouponAnalytics) -> CouponAnalyticsOut:
        return cls(coupon=CouponOut.of(a.coupon), total_redemptions=a.total_redemptions, unique_users=a.unique_users,
                   total_value_distributed=money(a.total_value_distributed), redemption_rate=a.redemption_rate,
                   remaining_uses=a.remaining_uses, is_expired=a.is_expired)


class DeactivatedOut(msgspec.Struct, kw_only=True):
    success: bool
    message: str


class AvailableCouponOut(msgspec.Struct, kw_only=True):
    coupon_id: int
    code: str
    value_usd: msgspec.Raw
    coupon_scope: str
    coupon_type: str
    description: str | None
    valid_until: datetime
    remaining_uses: int

    @classmethod
    def of(cls, c: Coupon) -> AvailableCouponOut:
        return cls(coupon_id=c.id, code=c.code, value_usd=money(c.value_usd), coupon_scope=c.coupon_scope.value,
                   coupon_type=c.coupon_type.value, description=c.description, valid_until=c.valid_until,
                   remaining_uses=c.remaining_uses)


class RedemptionOut(msgspec.Struct, kw_only=True):
    """200 on success; the same shape with success=false and error_code on a 400 refusal."""

    success: bool
    message: str
    coupon_code: str | None = None
    coupon_value: msgspec.Raw | None = None
    previous_balance: msgspec.Raw | None = None
    new_balance: msgspec.Raw | None = None
    error_code: str | None = None


class RedemptionHistoryItemOut(msgspec.Struct, kw_only=True):
    id: int | None
    coupon_code: str
    coupon_scope: str
    coupon_type: str
    value_applied: msgspec.Raw
    redeemed_at: datetime
    user_balance_before: msgspec.Raw
    user_balance_after: msgspec.Raw

    @classmethod
    def of(cls, e: RedemptionEntry) -> RedemptionHistoryItemOut:
        r = e.redemption
        return cls(id=r.id, coupon_code=e.coupon_code, coupon_scope=e.coupon_scope.value,
                   coupon_type=e.coupon_type.value, value_applied=money(r.value_applied), redeemed_at=r.redeemed_at,
                   user_balance_before=money(r.user_balance_before), user_balance_after=money(r.user_balance_after))


class RedemptionHistoryOut(msgspec.Struct, kw_only=True):
    redemptions: list[RedemptionHistoryItemOut]
    total_redemptions: int  # as the seed: over the returned page
    total_value_redeemed: msgspec.Raw

    @classmethod
    def of(cls, h: RedemptionHistory) -> RedemptionHistoryOut:
        return cls(redemptions=[RedemptionHistoryItemOut.of(e) for e in h.entries],
                   total_redemptions=len(h.entries), total_value_redeemed=money(h.total_value_redeemed))
