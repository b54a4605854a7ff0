"""The coupon rules, pure: eligibility in the seed's order with its codes, and admin input validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec
import pytest

from domain.coupons import (
    ALREADY_REDEEMED,
    COUPON_EXPIRED,
    COUPON_INACTIVE,
    COUPON_NOT_ASSIGNED,
    COUPON_NOT_FOUND,
    COUPON_NOT_YET_ACTIVE,
    MAX_USES_EXCEEDED,
    REFUSALS,
    Coupon,
    CouponChanges,
    CouponRejected,
    CouponScope,
    CouponStats,
    CouponType,
    CouponUsage,
    NewCoupon,
    NothingToUpdate,
    analytics,
    is_available,
    normalize_code,
    refusal,
    valid_changes,
    valid_new_coupon,
)
from domain.errors import InvalidInput

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def coupon(**kw: object) -> Coupon:
    fields: dict[str, object] = {
        "id": 1, "code": "WELCOME", "value_usd": Decimal("5"), "coupon_scope": CouponScope.GLOBAL,
        "coupon_type": CouponType.PROMOTIONAL, "max_uses": 10, "times_used": 0,
        "valid_from": NOW - timedelta(days=1), "valid_until": NOW + timedelta(days=1), "is_active": True,
        "created_at": NOW - timedelta(days=2),
    }
    fields.update(kw)
    return Coupon(**fields)  # type: ignore[arg-type]


def new(**kw: object) -> NewCoupon:
    fields: dict[str, object] = {
        "code": "spring-2026_a", "value_usd": Decimal("10"), "coupon_scope": CouponScope.GLOBAL, "max_uses": 100,
        "valid_from": NOW, "valid_until": NOW + timedelta(days=30),
    }
    fields.update(kw)
    return NewCoupon(**fields)  # type: ignore[arg-type]


def why(c: Coupon | None, *, user_id: int = 7, at: datetime = NOW, redeemed: bool = False) -> str | None:
    return refusal(c, user_id=user_id, now=at, already_redeemed=redeemed)


def test_a_valid_global_coupon_is_redeemable_by_anyone() -> None:
    assert why(coupon()) is None
    assert why(coupon(), user_id=99) is None


def test_each_refusal_has_the_seeds_code_and_message() -> None:
    cases = {
        COUPON_NOT_FOUND: why(None),
        COUPON_INACTIVE: why(coupon(is_active=False)),
        COUPON_NOT_YET_ACTIVE: why(coupon(valid_from=NOW + timedelta(seconds=1))),
        COUPON_EXPIRED: why(coupon(valid_until=NOW - timedelta(seconds=1))),
        COUPON_NOT_ASSIGNED: why(coupon(coupon_scope=CouponScope.USER_SPECIFIC, assigned_to_user_id=8, max_uses=1)),
        MAX_USES_EXCEEDED: why(coupon(max_uses=3, times_used=3)),
        ALREADY_REDEEMED: why(coupon(), redeemed=True),
    }
    assert {code: code for code in cases} == {code: got for code, got in cases.items()}
    assert REFUSALS[COUPON_NOT_FOUND] == "Invalid coupon code"
    assert REFUSALS[COUPON_INACTIVE] == "Coupon is no longer available"
    assert REFUSALS[COUPON_NOT_YET_ACTIVE] == "Coupon is not yet active"
    assert REFUSALS[COUPON_EXPIRED] == "Coupon has expired"
    assert REFUSALS[COUPON_NOT_ASSIGNED] == "This coupon is not valid for your account"
    assert REFUSALS[MAX_USES_EXCEEDED] == "Coupon has reached maximum usage limit"
    assert REFUSALS[ALREADY_REDEEMED] == "You have already redeemed this coupon"
    rejected = CouponRejected(COUPON_EXPIRED, coupon_code="x")
    assert (rejected.code, rejected.message, rejected.coupon_code) == (COUPON_EXPIRED, "Coupon has expired", "x")


def test_the_window_is_inclusive_at_both_ends() -> None:
    c = coupon(valid_from=NOW, valid_until=NOW + timedelta(hours=1))
    assert why(c, at=NOW) is None
    assert why(c, at=NOW + timedelta(hours=1)) is None
    assert why(c, at=NOW + timedelta(hours=1, microseconds=1)) == COUPON_EXPIRED


def test_refusals_are_checked_in_the_seeds_order() -> None:
    everything_wrong = coupon(is_active=False, valid_until=NOW - timedelta(days=1), max_uses=1, times_used=1)
    assert why(everything_wrong, redeemed=True) == COUPON_INACTIVE
    assert why(coupon(valid_until=NOW - timedelta(days=1), max_uses=1, times_used=1), redeemed=True) == COUPON_EXPIRED
    # a used-up global coupon says so even to a user who redeemed it (the seed checked uses first) ...
    assert why(coupon(max_uses=1, times_used=1), redeemed=True) == MAX_USES_EXCEEDED
    # ... and a user-specific one tells its user they already redeemed it
    mine = coupon(coupon_scope=CouponScope.USER_SPECIFIC, assigned_to_user_id=7, max_uses=1, times_used=1)
    assert why(mine, redeemed=True) == ALREADY_REDEEMED
    assert why(mine, user_id=8, redeemed=False) == COUPON_NOT_ASSIGNED


def test_a_user_specific_coupon_is_only_for_its_user() -> None:
    mine = coupon(coupon_scope=CouponScope.USER_SPECIFIC, assigned_to_user_id=7, max_uses=1)
    assert why(mine, user_id=7) is None
    assert why(mine, user_id=8) == COUPON_NOT_ASSIGNED
    assert is_available(mine, user_id=7, now=NOW, already_redeemed=False)
    assert not is_available(mine, user_id=8, now=NOW, already_redeemed=False)
    assert not is_available(mine, user_id=7, now=NOW, already_redeemed=True)


def test_codes_are_matched_upper_case() -> None:
    assert normalize_code("  welcome-10 ") == "WELCOME-10"


def test_a_new_coupon_is_normalised() -> None:
    naive_until = datetime(2026, 7, 1, 0, 0)
    checked = valid_new_coupon(new(value_usd=Decimal("0.123456789012"), valid_until=naive_until,
                                   valid_from=NOW.astimezone(UTC)))
    assert checked.code == "SPRING-2026_A"
    assert checked.value_usd == Decimal("0.1234567890")
    assert checked.valid_until == datetime(2026, 7, 1, tzinfo=UTC)


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"code": "no spaces"}, "code", "Code must be alphanumeric (hyphens and underscores allowed)"),
    ({"code": "ÄÖÜ"}, "code", "Code must be alphanumeric (hyphens and underscores allowed)"),
    ({"code": "ab"}, "code", "Code must be 3-50 characters"),
    ({"code": "A" * 51}, "code", "Code must be 3-50 characters"),
    ({"value_usd": Decimal(0)}, "value_usd", "value_usd must be greater than 0"),
    ({"value_usd": Decimal("-1")}, "value_usd", "value_usd must be greater than 0"),
    ({"value_usd": Decimal("1000.0000000001")}, "value_usd", "value_usd must be at most 1000"),
    ({"value_usd": Decimal("NaN")}, "value_usd", "value_usd must be a number"),
    ({"max_uses": 0}, "max_uses", "max_uses must be greater than 0"),
    ({"coupon_scope": CouponScope.USER_SPECIFIC, "max_uses": 1}, "assigned_to_user_id",
     "User-specific coupons must have assigned_to_user_id"),
    ({"assigned_to_user_id": 3}, "assigned_to_user_id", "Global coupons cannot have assigned_to_user_id"),
    ({"coupon_scope": CouponScope.USER_SPECIFIC, "assigned_to_user_id": 3, "max_uses": 2}, "max_uses",
     "User-specific coupons must have max_uses = 1"),
    ({"valid_until": NOW}, "valid_until", "valid_until must be after valid_from"),
    ({"description": "x" * 501}, "description", "description must be at most 500 characters"),
])
def test_invalid_new_coupons_are_refused_with_the_seeds_messages(fields: dict[str, object], field: str,
                                                                 message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        valid_new_coupon(new(**fields))
    assert (caught.value.field, caught.value.message) == (field, message)


def test_the_edges_of_a_valid_new_coupon_are_accepted() -> None:
    assert valid_new_coupon(new(value_usd=Decimal(1000))).value_usd == Decimal(1000)
    assert valid_new_coupon(new(code="abc")).code == "ABC"
    assert valid_new_coupon(new(coupon_scope=CouponScope.USER_SPECIFIC, assigned_to_user_id=3, max_uses=1))


def test_changes_keep_the_coupon_coherent() -> None:
    with pytest.raises(NothingToUpdate):
        valid_changes(coupon(), CouponChanges())
    with pytest.raises(InvalidInput, match="below times_used"):
        valid_changes(coupon(times_used=5), CouponChanges(max_uses=4))
    assert valid_changes(coupon(times_used=5), CouponChanges(max_uses=5)).max_uses == 5
    with pytest.raises(InvalidInput, match="max_uses = 1"):
        valid_changes(coupon(coupon_scope=CouponScope.USER_SPECIFIC, assigned_to_user_id=1, max_uses=1),
                      CouponChanges(max_uses=2))
    with pytest.raises(InvalidInput, match="after valid_from"):
        valid_changes(coupon(), CouponChanges(valid_until=NOW - timedelta(days=2)))
    changed = valid_changes(coupon(), CouponChanges(valid_until=datetime(2027, 1, 1), description=None))
    assert changed.valid_until == datetime(2027, 1, 1, tzinfo=UTC)
    assert changed.as_dict() == {"valid_until": datetime(2027, 1, 1, tzinfo=UTC), "description": None}
    assert CouponChanges(is_active=False).as_dict() == {"is_active": False}
    assert CouponChanges().is_empty() and not CouponChanges(description=None).is_empty()
    assert CouponChanges().max_uses is msgspec.UNSET


def test_analytics_and_stats_arithmetic() -> None:
    c = coupon(max_uses=8, times_used=2, valid_until=NOW - timedelta(seconds=1))
    a = analytics(c, CouponUsage(total_redemptions=2, unique_users=2, total_value_distributed=Decimal(10)), now=NOW)
    assert (a.redemption_rate, a.remaining_uses, a.is_expired, a.total_value_distributed) == (
        25.0, 6, True, Decimal(10))
    stats = CouponStats(total_coupons=2, active_coupons=1, user_specific_coupons=1, global_coupons=1,
                        total_redemptions=3, unique_redeemers=2, total_value_distributed=Decimal(10))
    assert stats.average_redemption_value == Decimal("3.3333333333")
    empty = CouponStats(total_coupons=0, active_coupons=0, user_specific_coupons=0, global_coupons=0,
                        total_redemptions=0, unique_redeemers=0, total_value_distributed=Decimal(0))
    assert empty.average_redemption_value == 0
