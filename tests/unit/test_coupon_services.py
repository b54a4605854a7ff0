"""The coupon use cases over the memory twins: redemption writes the balance, its ledger row, the
use and the redemption together, or nothing; the admin and user queries read what was written."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from adapters.memory.bus import MemoryCacheBus
from adapters.memory.clock import FixedClock
from adapters.memory.holds import MemoryHoldStore
from adapters.memory.store import MemoryStore
from adapters.memory.uow import MemoryUnitOfWork, MemoryUnitOfWorkFactory
from domain.accounts import NewUser
from domain.coupons import (
    ALREADY_REDEEMED,
    COUPON_CREATED,
    COUPON_DEACTIVATED,
    COUPON_EXPIRED,
    COUPON_INACTIVE,
    COUPON_NOT_ASSIGNED,
    COUPON_NOT_FOUND,
    COUPON_NOT_YET_ACTIVE,
    COUPON_UPDATED,
    MAX_USES_EXCEEDED,
    USER_NOT_FOUND,
    Coupon,
    CouponChanges,
    CouponRejected,
    CouponScope,
    CouponType,
    NothingToUpdate,
)
from domain.errors import Conflict, InvalidInput, NotFound
from domain.invalidation import USERS_TOPIC
from domain.ledger import TransactionType
from domain.money import total
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
from domain.services.post_transaction import post_transaction
from domain.services.redeem_coupon import RedeemCoupon
from domain.services.update_coupon import UpdateCoupon


@dataclass
class World:
    store: MemoryStore
    uow: MemoryUnitOfWorkFactory
    clock: FixedClock
    bus: MemoryCacheBus
    holds: MemoryHoldStore
    redeem: RedeemCoupon
    create: CreateCoupon
    update: UpdateCoupon
    deactivate: DeactivateCoupon
    list_coupons: ListCoupons
    get: GetCoupon
    stats: GetCouponStats
    analytics: GetCouponAnalytics
    available: ListAvailableCoupons
    history: GetRedemptionHistory

    async def user(self, email: str, credits: str = "0", admin: bool = False) -> int:
        async with self.uow() as uow:
            user = await uow.users.add(NewUser(email=email, username=email.split("@")[0]), now=self.clock.now())
            if Decimal(credits):
                await post_transaction(uow, user_id=user.id, amount=Decimal(credits),
                                       kind=TransactionType.ADMIN_CREDIT, now=self.clock.now())
            await uow.commit()
        return user.id

    async def coupon(self, code: str = "WELCOME", *, value: str = "5", max_uses: int = 10,
                     scope: CouponScope = CouponScope.GLOBAL, assigned: int | None = None,
                     days: int = 30) -> Coupon:
        return await self.create(code=code, value_usd=Decimal(value), coupon_scope=scope, max_uses=max_uses,
                                 valid_until=self.clock.now() + timedelta(days=days), assigned_to_user_id=assigned,
                                 created_by=None)

    def balance(self, user_id: int) -> Decimal:
        return self.store.users[user_id].balance

    def ledger_sum(self, user_id: int) -> Decimal:
        return total(r.amount for r in self.store.ledger if r.user_id == user_id)


def world() -> World:
    store = MemoryStore()
    uow = MemoryUnitOfWorkFactory(store)
    clock = FixedClock()
    bus = MemoryCacheBus()
    holds = MemoryHoldStore()
    return World(store=store, uow=uow, clock=clock, bus=bus, holds=holds,
                 redeem=RedeemCoupon(uow, clock, bus, holds), create=CreateCoupon(uow, clock),
                 update=UpdateCoupon(uow, clock), deactivate=DeactivateCoupon(uow, clock),
                 list_coupons=ListCoupons(uow), get=GetCoupon(uow), stats=GetCouponStats(uow),
                 analytics=GetCouponAnalytics(uow, clock), available=ListAvailableCoupons(uow, clock),
                 history=GetRedemptionHistory(uow))


async def refused(w: World, user_id: int, code: str) -> str:
    with pytest.raises(CouponRejected) as caught:
        await w.redeem(user_id=user_id, code=code)
    return caught.value.code


async def test_redeeming_credits_the_user_with_one_coupon_ledger_row_and_records_the_redemption() -> None:
    w = world()
    uid = await w.user("ada@example.com", credits="2.5")
    c = await w.coupon("WELCOME", value="5")
    done = await w.redeem(user_id=uid, code="welcome", ip_address="10.0.0.1", user_agent="ua/1")
    assert done.coupon_code == "WELCOME"
    row = done.transaction
    assert (row.transaction_type, row.amount, row.balance_before, row.balance_after) == (
        TransactionType.COUPON, Decimal(5), Decimal("2.5"), Decimal("7.5"))
    assert row.metadata["coupon_code"] == "WELCOME" and row.metadata["coupon_id"] == c.id
    assert row.created_by == f"user:{uid}" and row.description == "Coupon WELCOME redeemed"
    assert w.balance(uid) == Decimal("7.5") == w.ledger_sum(uid)
    assert w.store.users[uid].purchased_credits == Decimal("7.5")
    [r] = w.store.redemptions
    assert (r.coupon_id, r.user_id, r.value_applied, r.user_balance_before, r.user_balance_after) == (
        c.id, uid, Decimal(5), Decimal("2.5"), Decimal("7.5"))
    assert (r.transaction_id, r.ip_address, r.user_agent, r.redeemed_at) == (row.id, "10.0.0.1", "ua/1", w.clock.now())
    assert w.store.coupons[c.id].times_used == 1


async def test_a_redemption_drops_the_users_cached_copies_and_their_primed_hold_balance() -> None:
    w = world()
    uid = await w.user("ada@example.com")
    await w.holds.prime(uid, Decimal(0))
    await w.coupon()
    await w.redeem(user_id=uid, code="WELCOME")
    assert (USERS_TOPIC, str(uid)) in w.bus.published
    assert uid not in w.holds.balances


async def test_each_refusal_writes_nothing() -> None:
    w = world()
    uid = await w.user("ada@example.com", credits="1")
    other = await w.user("bob@example.com")
    await w.coupon("GONE")
    await w.deactivate((await w.coupon("OFF")).id)
    await w.coupon("BOBS", scope=CouponScope.USER_SPECIFIC, assigned=other, max_uses=1)
    await w.coupon("ONCE", max_uses=1)
    await w.redeem(user_id=other, code="ONCE")
    await w.redeem(user_id=uid, code="GONE")
    before = (len(w.store.ledger), len(w.store.redemptions), w.balance(uid),
              {c.code: c.times_used for c in w.store.coupons.values()})
    assert await refused(w, uid, "NOPE") == COUPON_NOT_FOUND
    assert await refused(w, uid, "off") == COUPON_INACTIVE
    assert await refused(w, uid, "BOBS") == COUPON_NOT_ASSIGNED
    assert await refused(w, uid, "ONCE") == MAX_USES_EXCEEDED
    assert await refused(w, uid, "GONE") == ALREADY_REDEEMED
    assert await refused(w, 987, "GONE") == USER_NOT_FOUND
    assert before == (len(w.store.ledger), len(w.store.redemptions), w.balance(uid),
                      {c.code: c.times_used for c in w.store.coupons.values()})


class BlindToRedemptions(MemoryUnitOfWorkFactory):
    """A unit of work whose read of past redemptions misses them, as a concurrent transaction's would."""

    def __call__(self) -> MemoryUnitOfWork:
        uow = super().__call__()

        async def never(coupon_id: int, user_id: int) -> bool:
            return False

        uow.coupons.has_redeemed = never  # type: ignore[method-assign]
        return uow


async def test_a_repeat_that_slips_past_the_read_is_stopped_by_the_unique_redemption_and_rolled_back() -> None:
    w = world()
    uid = await w.user("ada@example.com", credits="1")
    c = await w.coupon("RACE", value="5", max_uses=10)
    await w.redeem(user_id=uid, code="RACE")
    blind = RedeemCoupon(BlindToRedemptions(w.store), w.clock, w.bus, w.holds)
    with pytest.raises(CouponRejected) as caught:
        await blind(user_id=uid, code="RACE")
    assert caught.value.code == ALREADY_REDEEMED
    # the claimed use, the credit and its ledger row were rolled back with the refused redemption
    assert w.store.coupons[c.id].times_used == 1
    assert len(w.store.ledger) == 2 and len(w.store.redemptions) == 1
    assert w.balance(uid) == Decimal(6) == w.ledger_sum(uid)


async def test_a_coupon_redeems_only_inside_its_window() -> None:
    w = world()
    uid = await w.user("ada@example.com")
    start = w.clock.now()
    await w.create(code="LATER", value_usd=Decimal(1), coupon_scope=CouponScope.GLOBAL, max_uses=5,
                   valid_from=start + timedelta(days=1), valid_until=start + timedelta(days=2))
    assert await refused(w, uid, "LATER") == COUPON_NOT_YET_ACTIVE
    w.clock.advance(timedelta(days=3).total_seconds())
    assert await refused(w, uid, "LATER") == COUPON_EXPIRED
    assert w.store.ledger == [] and w.store.redemptions == []


async def test_max_uses_is_exact_and_each_user_redeems_once() -> None:
    w = world()
    users = [await w.user(f"u{i}@example.com") for i in range(8)]
    c = await w.coupon("FIVE", value="0.1", max_uses=5)
    outcomes = await asyncio.gather(*(w.redeem(user_id=u, code="FIVE") for u in users), return_exceptions=True)
    won = [o for o in outcomes if not isinstance(o, BaseException)]
    lost = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(won) == 5 and all(isinstance(e, CouponRejected) and e.code == MAX_USES_EXCEEDED for e in lost)
    assert w.store.coupons[c.id].times_used == 5
    assert len([r for r in w.store.ledger if r.transaction_type is TransactionType.COUPON]) == 5
    again = await asyncio.gather(*(w.redeem(user_id=users[0], code="FIVE") for _ in range(3)), return_exceptions=True)
    assert all(isinstance(e, CouponRejected) for e in again)
    for u in users:
        assert w.balance(u) == w.ledger_sum(u)


async def test_a_user_specific_coupon_pays_its_user_once() -> None:
    w = world()
    uid = await w.user("ada@example.com")
    await w.coupon("ADA-SORRY", value="20", scope=CouponScope.USER_SPECIFIC, assigned=uid, max_uses=1)
    await w.redeem(user_id=uid, code="ada-sorry")
    assert await refused(w, uid, "ADA-SORRY") == ALREADY_REDEEMED
    assert w.balance(uid) == Decimal(20) == w.ledger_sum(uid)


async def test_creating_a_coupon_stores_it_upper_case_audits_it_and_refuses_a_duplicate_code() -> None:
    w = world()
    admin = await w.user("root@example.com")
    c = await w.create(code="Summer_Sale", value_usd=Decimal("12.5"), coupon_scope=CouponScope.GLOBAL, max_uses=3,
                       valid_until=w.clock.now() + timedelta(days=1), coupon_type=CouponType.PARTNERSHIP,
                       description="for partners", created_by=admin)
    assert (c.code, c.value_usd, c.times_used, c.is_active, c.valid_from, c.created_by, c.coupon_type) == (
        "SUMMER_SALE", Decimal("12.5"), 0, True, w.clock.now(), admin, CouponType.PARTNERSHIP)
    assert [e.event_type for e in w.store.audit] == [COUPON_CREATED]
    with pytest.raises(Conflict) as caught:
        await w.create(code="summer_sale", value_usd=Decimal(1), coupon_scope=CouponScope.GLOBAL, max_uses=1,
                       valid_until=w.clock.now() + timedelta(days=1))
    assert caught.value.code == "duplicate_coupon_code"
    assert len(w.store.coupons) == 1


async def test_a_user_specific_coupon_needs_an_existing_user() -> None:
    w = world()
    with pytest.raises(InvalidInput) as caught:
        await w.coupon("GHOST", scope=CouponScope.USER_SPECIFIC, assigned=404, max_uses=1)
    assert caught.value.field == "assigned_to_user_id"
    assert w.store.coupons == {}


async def test_updates_change_only_the_fields_sent() -> None:
    w = world()
    c = await w.coupon("EDIT", max_uses=3)
    with pytest.raises(NothingToUpdate):
        await w.update(c.id, CouponChanges())
    with pytest.raises(NotFound, match="Coupon not found or update failed"):
        await w.update(999, CouponChanges(is_active=False))
    updated = await w.update(c.id, CouponChanges(max_uses=7, description="more"), updated_by=1)
    assert (updated.max_uses, updated.description, updated.valid_until, updated.is_active) == (
        7, "more", c.valid_until, True)
    cleared = await w.update(c.id, CouponChanges(description=None))
    assert cleared.description is None and cleared.max_uses == 7
    assert [e.event_type for e in w.store.audit][-2:] == [COUPON_UPDATED, COUPON_UPDATED]


async def test_max_uses_cannot_drop_below_what_was_used() -> None:
    w = world()
    users = [await w.user(f"u{i}@example.com") for i in range(3)]
    c = await w.coupon("USED", max_uses=5)
    for u in users:
        await w.redeem(user_id=u, code="USED")
    with pytest.raises(InvalidInput):
        await w.update(c.id, CouponChanges(max_uses=2))
    assert (await w.update(c.id, CouponChanges(max_uses=3))).remaining_uses == 0


async def test_deactivation_is_soft_and_happens_once() -> None:
    w = world()
    c = await w.coupon("BYE")
    await w.deactivate(c.id, deactivated_by=1)
    assert w.store.coupons[c.id].is_active is False
    with pytest.raises(NotFound, match="Coupon not found or already inactive"):
        await w.deactivate(c.id)
    with pytest.raises(NotFound, match="Coupon not found or already inactive"):
        await w.deactivate(999)
    assert [e.event_type for e in w.store.audit][-1] == COUPON_DEACTIVATED
    assert (await w.get(c.id)).code == "BYE"


async def test_the_admin_list_filters_and_pages_newest_first() -> None:
    w = world()
    uid = await w.user("ada@example.com")
    for code in ("AAA", "BBB", "CCC"):
        await w.coupon(code)
        w.clock.advance(1)
    await w.coupon("MINE", scope=CouponScope.USER_SPECIFIC, assigned=uid, max_uses=1)
    await w.deactivate((await w.coupon("OLD")).id)
    page = await w.list_coupons()
    assert [c.code for c in page.coupons] == ["OLD", "MINE", "CCC", "BBB", "AAA"]
    assert [c.code for c in (await w.list_coupons(scope=CouponScope.USER_SPECIFIC)).coupons] == ["MINE"]
    assert [c.code for c in (await w.list_coupons(is_active=False)).coupons] == ["OLD"]
    assert (await w.list_coupons(coupon_type=CouponType.REFERRAL)).coupons == []
    assert [c.code for c in (await w.list_coupons(limit=2, offset=1)).coupons] == ["MINE", "CCC"]
    with pytest.raises(InvalidInput):
        await w.list_coupons(limit=0)


async def test_get_stats_and_analytics_read_the_redemptions() -> None:
    w = world()
    a, b = await w.user("a@example.com"), await w.user("b@example.com")
    c = await w.coupon("TEN", value="10", max_uses=4)
    await w.coupon("B-ONLY", value="2.5", scope=CouponScope.USER_SPECIFIC, assigned=b, max_uses=1)
    await w.deactivate((await w.coupon("OFF")).id)
    await w.redeem(user_id=a, code="TEN")
    await w.redeem(user_id=b, code="TEN")
    await w.redeem(user_id=b, code="B-ONLY")
    stats = await w.stats()
    assert (stats.total_coupons, stats.active_coupons, stats.user_specific_coupons, stats.global_coupons,
            stats.total_redemptions, stats.unique_redeemers, stats.total_value_distributed,
            stats.average_redemption_value) == (3, 2, 1, 2, 3, 2, Decimal("22.5"), Decimal("7.5"))
    got = await w.analytics(c.id)
    assert (got.total_redemptions, got.unique_users, got.total_value_distributed, got.redemption_rate,
            got.remaining_uses, got.is_expired, got.coupon.times_used) == (2, 2, Decimal(20), 50.0, 2, False, 2)
    w.clock.advance(timedelta(days=31).total_seconds())
    assert (await w.analytics(c.id)).is_expired is True
    with pytest.raises(NotFound, match="Coupon not found"):
        await w.analytics(999)
    with pytest.raises(NotFound, match="Coupon not found"):
        await w.get(999)


async def test_available_coupons_are_what_this_user_could_redeem_now_most_valuable_first() -> None:
    w = world()
    a, b = await w.user("a@example.com"), await w.user("b@example.com")
    await w.coupon("SMALL", value="1")
    await w.coupon("BIG", value="9", days=5)
    await w.coupon("BIG-LATER", value="9", days=50)
    await w.coupon("A-ONLY", value="3", scope=CouponScope.USER_SPECIFIC, assigned=a, max_uses=1)
    await w.coupon("B-ONLY", value="3", scope=CouponScope.USER_SPECIFIC, assigned=b, max_uses=1)
    await w.coupon("USED-UP", value="4", max_uses=1)
    await w.deactivate((await w.coupon("OFF", value="100")).id)
    await w.redeem(user_id=b, code="USED-UP")
    await w.redeem(user_id=a, code="SMALL")
    assert [c.code for c in await w.available(a)] == ["BIG", "BIG-LATER", "A-ONLY"]
    assert [c.code for c in await w.available(b)] == ["BIG", "BIG-LATER", "B-ONLY", "SMALL"]
    await w.redeem(user_id=a, code="A-ONLY")
    assert "A-ONLY" not in [c.code for c in await w.available(a)]
    w.clock.advance(timedelta(days=6).total_seconds())
    assert [c.code for c in await w.available(a)] == ["BIG-LATER"]


async def test_the_history_lists_this_users_redemptions_newest_first() -> None:
    w = world()
    a, b = await w.user("a@example.com", credits="1"), await w.user("b@example.com")
    await w.coupon("ONE", value="1")
    await w.coupon("TWO", value="2.25", scope=CouponScope.USER_SPECIFIC, assigned=a, max_uses=1)
    await w.redeem(user_id=a, code="ONE")
    w.clock.advance(60)
    await w.redeem(user_id=a, code="TWO")
    await w.redeem(user_id=b, code="ONE")
    history = await w.history(a)
    assert [(e.coupon_code, e.coupon_scope, e.redemption.user_balance_before, e.redemption.user_balance_after)
            for e in history.entries] == [("TWO", CouponScope.USER_SPECIFIC, Decimal(2), Decimal("4.25")),
                                          ("ONE", CouponScope.GLOBAL, Decimal(1), Decimal(2))]
    assert history.total_value_redeemed == Decimal("3.25")
    assert [e.coupon_code for e in (await w.history(a, limit=1)).entries] == ["TWO"]
    assert (await w.history(12345)).entries == []
