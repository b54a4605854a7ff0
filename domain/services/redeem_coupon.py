"""RedeemCoupon (#1723): claim one use, credit the user, record the redemption, all in one transaction.

The seed validated, then credited, then incremented `times_used` (twice, non-atomically), then
inserted the redemption and ignored its failure: concurrent requests overdrew `max_uses` and paid one
user twice. Here nothing is decided by a read alone: the use is claimed by a conditional increment,
the (coupon, user) pair is unique in the database, and the balance change, its `coupon` ledger row,
the increment and the redemption commit together or not at all."""

from __future__ import annotations

import msgspec

from domain.coupons import (
    ALREADY_REDEEMED,
    MAX_USES_EXCEEDED,
    USER_NOT_FOUND,
    CouponRejected,
    Redemption,
    normalize_code,
    refusal,
)
from domain.errors import Conflict, NotFound, ServiceUnavailable
from domain.invalidation import USERS_TOPIC
from domain.ledger import CreditTransaction, TransactionType
from domain.services.post_transaction import post_transaction
from ports.bus import CacheBus
from ports.clock import Clock
from ports.holds import HoldStore
from ports.uow import UnitOfWorkFactory

USER_AGENT_MAX = 500


class CouponRedeemed(msgspec.Struct, frozen=True, kw_only=True):
    coupon_code: str
    redemption: Redemption
    transaction: CreditTransaction


class RedeemCoupon:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, bus: CacheBus, holds: HoldStore | None = None) -> None:
        self._uow = uow
        self._clock = clock
        self._bus = bus
        self._holds = holds

    async def __call__(self, *, user_id: int, code: str, ip_address: str | None = None,
                       user_agent: str | None = None) -> CouponRedeemed:
        """Raises CouponRejected with the seed's code and message; nothing is written then."""
        now = self._clock.now()
        async with self._uow() as uow:
            coupon = await uow.coupons.get_by_code(normalize_code(code))
            redeemed = coupon is not None and await uow.coupons.has_redeemed(coupon.id, user_id)
            reason = refusal(coupon, user_id=user_id, now=now, already_redeemed=redeemed)
            if reason is not None or coupon is None:
                raise CouponRejected(reason or MAX_USES_EXCEEDED, coupon_code=code)
            claimed = await uow.coupons.claim_use(coupon.id, now=now)
            if claimed is None:  # another transaction took the last use (or changed the coupon) since the read
                latest = await uow.coupons.get(coupon.id)
                redeemed = await uow.coupons.has_redeemed(coupon.id, user_id)
                raise CouponRejected(refusal(latest, user_id=user_id, now=now, already_redeemed=redeemed)
                                     or MAX_USES_EXCEEDED, coupon_code=code)
            try:
                row = await post_transaction(
                    uow, user_id=user_id, amount=claimed.value_usd, kind=TransactionType.COUPON, now=now,
                    description=f"Coupon {claimed.code} redeemed", created_by=f"user:{user_id}",
                    metadata={"coupon_code": claimed.code, "coupon_id": claimed.id,
                              "coupon_scope": claimed.coupon_scope.value, "coupon_type": claimed.coupon_type.value},
                )
            except NotFound as exc:
                raise CouponRejected(USER_NOT_FOUND, coupon_code=code) from exc
            try:
                redemption = await uow.coupons.add_redemption(Redemption(
                    coupon_id=claimed.id, user_id=user_id, value_applied=row.amount,
                    user_balance_before=row.balance_before, user_balance_after=row.balance_after,
                    transaction_id=row.id, ip_address=ip_address,
                    user_agent=user_agent[:USER_AGENT_MAX] if user_agent else None, redeemed_at=now,
                ))
            except Conflict as exc:  # the same user, concurrently: the unique (coupon, user) pair decides
                raise CouponRejected(ALREADY_REDEEMED, coupon_code=code) from exc
            await uow.commit()
        await self._balance_changed(user_id)
        return CouponRedeemed(coupon_code=claimed.code, redemption=redemption, transaction=row)

    async def _balance_changed(self, user_id: int) -> None:
        """After the commit: every process drops its cached copy of the user, and the hold store
        re-primes the balance on next use. Failing here cannot undo the redemption, so an unreachable
        Redis is tolerated (cached entries and mirrored balances expire on their own)."""
        try:
            await self._bus.publish(USERS_TOPIC, str(user_id))
        except ServiceUnavailable:
            pass
        if self._holds is not None:
            try:
                await self._holds.forget_balance(user_id)
            except ServiceUnavailable:
                pass
