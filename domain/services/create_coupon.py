"""CreateCoupon (#1724): an admin issues a global or user-specific coupon."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from domain.audit import AuditEvent
from domain.coupons import (
    COUPON_CREATED,
    Coupon,
    CouponScope,
    CouponType,
    CreatorType,
    NewCoupon,
    valid_new_coupon,
)
from domain.errors import InvalidInput
from ports.clock import Clock
from ports.uow import UnitOfWorkFactory


class CreateCoupon:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, *, code: str, value_usd: Decimal, coupon_scope: CouponScope, max_uses: int,
                       valid_until: datetime, coupon_type: CouponType = CouponType.PROMOTIONAL,
                       assigned_to_user_id: int | None = None, description: str | None = None,
                       valid_from: datetime | None = None, created_by: int | None = None,
                       created_by_type: CreatorType = CreatorType.ADMIN) -> Coupon:
        """Raises InvalidInput (422) for the seed's validation failures, Conflict for a code in use."""
        now = self._clock.now()
        new = valid_new_coupon(NewCoupon(
            code=code, value_usd=value_usd, coupon_scope=coupon_scope, max_uses=max_uses,
            valid_from=valid_from or now, valid_until=valid_until, coupon_type=coupon_type,
            assigned_to_user_id=assigned_to_user_id, created_by=created_by, created_by_type=created_by_type,
            description=description,
        ))
        async with self._uow() as uow:
            if new.assigned_to_user_id is not None and await uow.users.get(new.assigned_to_user_id) is None:
                raise InvalidInput("Assigned user not found", field="assigned_to_user_id")
            coupon = await uow.coupons.add(new, now=now)
            await uow.audit.record(AuditEvent(
                event_type=COUPON_CREATED, created_at=now, user_id=created_by,
                details={"coupon_id": coupon.id, "code": coupon.code, "value_usd": str(coupon.value_usd),
                         "coupon_scope": coupon.coupon_scope.value, "max_uses": coupon.max_uses},
            ))
            await uow.commit()
        return coupon
