"""UpdateCoupon (#1725): change a coupon's window, max_uses, active flag or description."""

from __future__ import annotations

from domain import not_found
from domain.audit import AuditEvent
from domain.coupons import COUPON_UPDATED, Coupon, CouponChanges, NothingToUpdate, valid_changes
from ports.clock import Clock
from ports.uow import UnitOfWorkFactory


class UpdateCoupon:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, coupon_id: int, changes: CouponChanges, *, updated_by: int | None = None) -> Coupon:
        """The coupon row is locked while the change is checked, so a concurrent redemption cannot slip
        between the check (max_uses >= times_used) and the write."""
        if changes.is_empty():
            raise NothingToUpdate()
        now = self._clock.now()
        async with self._uow() as uow:
            coupon = await uow.coupons.get_for_update(coupon_id)
            if coupon is None:
                raise not_found.coupon("or update failed")
            changes = valid_changes(coupon, changes)
            updated = await uow.coupons.update(coupon_id, changes, now=now)
            if updated is None:
                raise not_found.coupon("or update failed")
            await uow.audit.record(AuditEvent(
                event_type=COUPON_UPDATED, created_at=now, user_id=updated_by,
                details={"coupon_id": coupon_id, "fields": sorted(changes.as_dict())},
            ))
            await uow.commit()
        return updated
