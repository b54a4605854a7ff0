"""Coupons: codes an admin issues that add credits once per user, up to `max_uses` redemptions.

A coupon is `global` (any user, once each, until `max_uses` redemptions) or `user_specific`
(assigned to one user, `max_uses` = 1). The rules below are the seed's, with its error codes and
messages; the repository enforces them again where concurrency could slip past a read (the
conditional increment of `times_used`, the unique (coupon, user) redemption)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

import msgspec

from domain.errors import GatewayError, InvalidInput
from domain.money import ZERO, total, usd

CODE_MIN, CODE_MAX = 3, 50
MAX_VALUE_USD = Decimal(1000)
DESCRIPTION_MAX = 500
_CODE = re.compile(r"^[A-Za-z0-9_-]+$")

COUPON_CREATED = "COUPON_CREATED"
COUPON_UPDATED = "COUPON_UPDATED"
COUPON_DEACTIVATED = "COUPON_DEACTIVATED"


class CouponScope(StrEnum):
    USER_SPECIFIC = "user_specific"
    GLOBAL = "global"


class CouponType(StrEnum):
    PROMOTIONAL = "promotional"
    REFERRAL = "referral"
    COMPENSATION = "compensation"
    PARTNERSHIP = "partnership"


class CreatorType(StrEnum):
    ADMIN = "admin"
    SYSTEM = "system"


class Coupon(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    code: str
    value_usd: Decimal
    coupon_scope: CouponScope
    coupon_type: CouponType
    max_uses: int
    times_used: int
    valid_from: datetime
    valid_until: datetime
    is_active: bool
    created_at: datetime
    assigned_to_user_id: int | None = None
    created_by: int | None = None
    created_by_type: CreatorType = CreatorType.ADMIN
    description: str | None = None

    @property
    def remaining_uses(self) -> int:
        return max(self.max_uses - self.times_used, 0)

    def is_expired(self, now: datetime) -> bool:
        return self.valid_until < now


class NewCoupon(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    value_usd: Decimal
    coupon_scope: CouponScope
    max_uses: int
    valid_from: datetime
    valid_until: datetime
    coupon_type: CouponType = CouponType.PROMOTIONAL
    assigned_to_user_id: int | None = None
    created_by: int | None = None
    created_by_type: CreatorType = CreatorType.ADMIN
    description: str | None = None


class CouponChanges(msgspec.Struct, frozen=True, kw_only=True):
    """The fields an admin may change (#1725); UNSET leaves a field as it is."""

    valid_until: datetime | msgspec.UnsetType = msgspec.UNSET
    max_uses: int | msgspec.UnsetType = msgspec.UNSET
    is_active: bool | msgspec.UnsetType = msgspec.UNSET
    description: str | msgspec.UnsetType | None = msgspec.UNSET

    def is_empty(self) -> bool:
        return all(getattr(self, f) is msgspec.UNSET for f in self.__struct_fields__)

    def as_dict(self) -> dict[str, object]:
        return {f: getattr(self, f) for f in self.__struct_fields__ if getattr(self, f) is not msgspec.UNSET}


class Redemption(msgspec.Struct, frozen=True, kw_only=True):
    coupon_id: int
    user_id: int
    value_applied: Decimal
    user_balance_before: Decimal
    user_balance_after: Decimal
    redeemed_at: datetime
    transaction_id: int | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    id: int | None = None


class RedemptionEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A redemption as its user's history shows it: with the coupon's code, scope and type."""

    redemption: Redemption
    coupon_code: str
    coupon_scope: CouponScope
    coupon_type: CouponType


class CouponUsage(msgspec.Struct, frozen=True, kw_only=True):
    total_redemptions: int = 0
    unique_users: int = 0
    total_value_distributed: Decimal = ZERO


class CouponStats(msgspec.Struct, frozen=True, kw_only=True):
    total_coupons: int
    active_coupons: int
    user_specific_coupons: int
    global_coupons: int
    total_redemptions: int
    unique_redeemers: int
    total_value_distributed: Decimal

    @property
    def average_redemption_value(self) -> Decimal:
        if not self.total_redemptions:
            return ZERO
        return usd(self.total_value_distributed / self.total_redemptions)


class CouponAnalytics(msgspec.Struct, frozen=True, kw_only=True):
    coupon: Coupon
    total_redemptions: int
    unique_users: int
    total_value_distributed: Decimal
    redemption_rate: float
    remaining_uses: int
    is_expired: bool


class RedemptionHistory(msgspec.Struct, frozen=True, kw_only=True):
    entries: list[RedemptionEntry]

    @property
    def total_value_redeemed(self) -> Decimal:
        return total(e.redemption.value_applied for e in self.entries)


# --- redemption refusals: the seed's codes and messages -------------------------------------------

COUPON_NOT_FOUND = "COUPON_NOT_FOUND"
COUPON_INACTIVE = "COUPON_INACTIVE"
COUPON_NOT_YET_ACTIVE = "COUPON_NOT_YET_ACTIVE"
COUPON_EXPIRED = "COUPON_EXPIRED"
COUPON_NOT_ASSIGNED = "COUPON_NOT_ASSIGNED"
MAX_USES_EXCEEDED = "MAX_USES_EXCEEDED"
ALREADY_REDEEMED = "ALREADY_REDEEMED"
USER_NOT_FOUND = "USER_NOT_FOUND"

REFUSALS: dict[str, str] = {
    COUPON_NOT_FOUND: "Invalid coupon code",
    COUPON_INACTIVE: "Coupon is no longer available",
    COUPON_NOT_YET_ACTIVE: "Coupon is not yet active",
    COUPON_EXPIRED: "Coupon has expired",
    COUPON_NOT_ASSIGNED: "This coupon is not valid for your account",
    MAX_USES_EXCEEDED: "Coupon has reached maximum usage limit",
    ALREADY_REDEEMED: "You have already redeemed this coupon",
    USER_NOT_FOUND: "User not found",
}


class NothingToUpdate(GatewayError):
    """An update naming no changeable field (HTTP 400, as the seed answers)."""

    code = "no_fields_to_update"

    def __init__(self) -> None:
        super().__init__("No fields to update")


class CouponRejected(GatewayError):
    """A redemption refused for one of REFUSALS' reasons (HTTP 400 with the seed's body)."""

    def __init__(self, code: str, *, coupon_code: str | None = None) -> None:
        super().__init__(REFUSALS[code], code=code)
        self.coupon_code = coupon_code


def normalize_code(code: str) -> str:
    """Codes are stored and matched upper-case: 'welcome' and 'WELCOME' are one coupon."""
    return code.strip().upper()


def refusal(coupon: Coupon | None, *, user_id: int, now: datetime, already_redeemed: bool) -> str | None:
    """Why `user_id` may not redeem `coupon` now (a REFUSALS code), or None; checked in the seed's order."""
    if coupon is None:
        return COUPON_NOT_FOUND
    if not coupon.is_active:
        return COUPON_INACTIVE
    if now < coupon.valid_from:
        return COUPON_NOT_YET_ACTIVE
    if now > coupon.valid_until:
        return COUPON_EXPIRED
    if coupon.coupon_scope is CouponScope.USER_SPECIFIC and coupon.assigned_to_user_id != user_id:
        return COUPON_NOT_ASSIGNED
    if coupon.coupon_scope is CouponScope.GLOBAL and coupon.times_used >= coupon.max_uses:
        return MAX_USES_EXCEEDED
    if already_redeemed:
        return ALREADY_REDEEMED
    if coupon.times_used >= coupon.max_uses:
        return MAX_USES_EXCEEDED
    return None


def is_available(coupon: Coupon, *, user_id: int, now: datetime, already_redeemed: bool) -> bool:
    """Listed under /coupons/available: what this user could redeem right now (the seed also listed
    user-specific coupons its user had already redeemed)."""
    return refusal(coupon, user_id=user_id, now=now, already_redeemed=already_redeemed) is None


def analytics(coupon: Coupon, usage: CouponUsage, *, now: datetime) -> CouponAnalytics:
    rate = usage.total_redemptions / coupon.max_uses * 100 if coupon.max_uses > 0 else 0.0
    return CouponAnalytics(
        coupon=coupon, total_redemptions=usage.total_redemptions, unique_users=usage.unique_users,
        total_value_distributed=usage.total_value_distributed, redemption_rate=rate,
        remaining_uses=coupon.remaining_uses, is_expired=coupon.is_expired(now),
    )


# --- validation of admin input (422 with the seed's messages) -------------------------------------

def as_utc(value: datetime) -> datetime:
    """Naive datetimes are read as UTC (as the seed's database did); aware ones are converted."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def valid_code(code: str) -> str:
    code = code.strip()
    if not CODE_MIN <= len(code) <= CODE_MAX:
        raise InvalidInput(f"Code must be {CODE_MIN}-{CODE_MAX} characters", field="code")
    if not _CODE.match(code):
        raise InvalidInput("Code must be alphanumeric (hyphens and underscores allowed)", field="code")
    return normalize_code(code)


def valid_value(value: Decimal) -> Decimal:
    try:
        amount = usd(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("value_usd must be a number", field="value_usd") from exc
    if amount <= 0:
        raise InvalidInput("value_usd must be greater than 0", field="value_usd")
    if amount > MAX_VALUE_USD:
        raise InvalidInput(f"value_usd must be at most {MAX_VALUE_USD}", field="value_usd")
    return amount


def valid_description(description: str | None) -> str | None:
    if description is not None and len(description) > DESCRIPTION_MAX:
        raise InvalidInput(f"description must be at most {DESCRIPTION_MAX} characters", field="description")
    return description


def valid_new_coupon(new: NewCoupon) -> NewCoupon:
    """The seed's validators (code format, scope vs assignment, user-specific max_uses = 1), plus a
    validity window that ends after it starts; returns the coupon normalised (code upper-case, UTC)."""
    code = valid_code(new.code)
    value = valid_value(new.value_usd)
    if new.max_uses <= 0:
        raise InvalidInput("max_uses must be greater than 0", field="max_uses")
    if new.coupon_scope is CouponScope.USER_SPECIFIC and not new.assigned_to_user_id:
        raise InvalidInput("User-specific coupons must have assigned_to_user_id", field="assigned_to_user_id")
    if new.coupon_scope is CouponScope.GLOBAL and new.assigned_to_user_id:
        raise InvalidInput("Global coupons cannot have assigned_to_user_id", field="assigned_to_user_id")
    if new.coupon_scope is CouponScope.USER_SPECIFIC and new.max_uses != 1:
        raise InvalidInput("User-specific coupons must have max_uses = 1", field="max_uses")
    valid_from, valid_until = as_utc(new.valid_from), as_utc(new.valid_until)
    if valid_until <= valid_from:
        raise InvalidInput("valid_until must be after valid_from", field="valid_until")
    return msgspec.structs.replace(new, code=code, value_usd=value, valid_from=valid_from, valid_until=valid_until,
                                   description=valid_description(new.description))


def valid_changes(coupon: Coupon, changes: CouponChanges) -> CouponChanges:
    """An update keeps the coupon coherent: a user-specific coupon stays single-use, max_uses never
    drops below the redemptions already made, and the window still ends after it starts."""
    if changes.is_empty():
        raise NothingToUpdate()
    if not isinstance(changes.max_uses, msgspec.UnsetType):
        if changes.max_uses <= 0:
            raise InvalidInput("max_uses must be greater than 0", field="max_uses")
        if coupon.coupon_scope is CouponScope.USER_SPECIFIC and changes.max_uses != 1:
            raise InvalidInput("User-specific coupons must have max_uses = 1", field="max_uses")
        if changes.max_uses < coupon.times_used:
            raise InvalidInput(f"max_uses cannot be below times_used ({coupon.times_used})", field="max_uses")
    if not isinstance(changes.valid_until, msgspec.UnsetType):
        valid_until = as_utc(changes.valid_until)
        if valid_until <= coupon.valid_from:
            raise InvalidInput("valid_until must be after valid_from", field="valid_until")
        changes = msgspec.structs.replace(changes, valid_until=valid_until)
    if not isinstance(changes.description, msgspec.UnsetType):
        valid_description(changes.description)
    return changes
