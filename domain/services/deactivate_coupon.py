"""DeactivateCoupon (#1726): a soft delete; the coupon and its redemptions stay on record."""

from __future__ import annotations

from domain import not_found
from domain.audit import AuditEvent
from domain.coupons import COUPON_DEACTIVATED
from ports.clock import Clock
from ports.uow import UnitOfWorkFactory


class DeactivateCoupon:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, coupon_id: int, *, deactivated_by: int | None = None) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            if not await uow.coupons.deactivate(coupon_id, now=now):
                raise not_found.coupon("or already inactive")
            await uow.audit.record(AuditEvent(event_type=COUPON_DEACTIVATED, created_at=now, user_id=deactivated_by,
                                              details={"coupon_id": coupon_id}))
            await uow.commit()
