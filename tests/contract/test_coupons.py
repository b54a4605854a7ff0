"""The coupon repository behaves the same on memory, SQLite and PostgreSQL.

The PostgreSQL database is shared by the session: codes are unique per test, and the global
aggregates are compared before and after."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.accounts import NewUser
from domain.coupons import (
    Coupon,
    CouponChanges,
    CouponScope,
    CouponType,
    CreatorType,
    NewCoupon,
    Redemption,
)
from domain.errors import Conflict
from ports.uow import UnitOfWorkFactory

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def tag() -> str:
    return uuid.uuid4().hex[:8].upper()


async def new_user(uow: UnitOfWorkFactory) -> int:
    async with uow() as u:
        user = await u.users.add(NewUser(
            email=f"coupon-{uuid.uuid4().hex[:12]}@example.com", username="c_" + uuid.uuid4().hex[:12]), now=T0)
        await u.commit()
    return user.id


def spec(code: str, **kw: object) -> NewCoupon:
    fields: dict[str, object] = {"code": code, "value_usd": Decimal("5"), "coupon_scope": CouponScope.GLOBAL,
                                 "max_uses": 10, "valid_from": T0 - timedelta(days=1),
                                 "valid_until": T0 + timedelta(days=1)}
    fields.update(kw)
    return NewCoupon(**fields)  # type: ignore[arg-type]


async def add(uow: UnitOfWorkFactory, *specs: NewCoupon, at: datetime = T0) -> list[Coupon]:
    async with uow() as u:
        stored = [await u.coupons.add(s, now=at) for s in specs]
        await u.commit()
    return stored


async def redeem(uow: UnitOfWorkFactory, coupon: Coupon, user_id: int, *, at: datetime = T0,
                 before: str = "0") -> Redemption:
    async with uow() as u:
        claimed = await u.coupons.claim_use(coupon.id, now=at)
        assert claimed is not None
        stored = await u.coupons.add_redemption(Redemption(
            coupon_id=coupon.id, user_id=user_id, value_applied=coupon.value_usd, user_balance_before=Decimal(before),
            user_balance_after=Decimal(before) + coupon.value_usd, redeemed_at=at))
        await u.commit()
    return stored


async def test_a_coupon_reads_back_field_for_field_by_id_and_by_any_case_of_its_code(
        uow_factory: UnitOfWorkFactory) -> None:
    admin, owner = await new_user(uow_factory), await new_user(uow_factory)
    code = f"Mixed-{tag()}_x"
    [stored] = await add(uow_factory, spec(
        code, value_usd=Decimal("999.1234567891"), coupon_scope=CouponScope.USER_SPECIFIC, max_uses=1,
        coupon_type=CouponType.COMPENSATION, assigned_to_user_id=owner, created_by=admin,
        created_by_type=CreatorType.SYSTEM, description="sorry about the outage"))
    assert stored.id > 0 and stored.code == code.upper()
    assert (stored.value_usd, stored.coupon_scope, stored.coupon_type, stored.max_uses, stored.times_used) == (
        Decimal("999.1234567891"), CouponScope.USER_SPECIFIC, CouponType.COMPENSATION, 1, 0)
    assert (stored.valid_from, stored.valid_until, stored.is_active, stored.created_at) == (
        T0 - timedelta(days=1), T0 + timedelta(days=1), True, T0)
    assert (stored.assigned_to_user_id, stored.created_by, stored.created_by_type, stored.description) == (
        owner, admin, CreatorType.SYSTEM, "sorry about the outage")
    async with uow_factory() as u:
        assert await u.coupons.get(stored.id) == stored
        assert await u.coupons.get_for_update(stored.id) == stored
        assert await u.coupons.get_by_code(code.lower()) == stored
        assert await u.coupons.get_by_code(f"  {code} ") == stored
        assert await u.coupons.get(10**9) is None and await u.coupons.get_by_code("NO-SUCH-" + tag()) is None
    assert isinstance(stored.value_usd, Decimal)


async def test_a_code_is_unique_whatever_its_case(uow_factory: UnitOfWorkFactory) -> None:
    code = f"DUP-{tag()}"
    await add(uow_factory, spec(code))
    with pytest.raises(Conflict) as caught:
        await add(uow_factory, spec(code.lower()))
    assert caught.value.code == "duplicate_coupon_code"
    await add(uow_factory, spec(code + "-2"))  # the failed insert left the next one working


async def test_the_list_filters_and_pages_newest_first(uow_factory: UnitOfWorkFactory) -> None:
    owner = await new_user(uow_factory)
    t = tag()
    far = T0 + timedelta(days=3650 + int(t[:4], 16))  # a created_at no other test shares: newest in the list
    await add(uow_factory, spec(f"L1-{t}"), at=far)
    await add(uow_factory, spec(f"L2-{t}", coupon_type=CouponType.REFERRAL), at=far + timedelta(seconds=1))
    await add(uow_factory, spec(f"L3-{t}", coupon_scope=CouponScope.USER_SPECIFIC, assigned_to_user_id=owner,
                                max_uses=1), at=far + timedelta(seconds=2))
    [l4] = await add(uow_factory, spec(f"L4-{t}"), at=far + timedelta(seconds=3))
    async with uow_factory() as u:
        assert await u.coupons.deactivate(l4.id, now=far)

        def mine(rows: list[Coupon]) -> list[str]:
            return [c.code.split("-")[0] for c in rows if c.code.endswith(t)]

        assert mine(await u.coupons.list(limit=1000, offset=0)) == ["L4", "L3", "L2", "L1"]
        assert mine(await u.coupons.list(limit=1000, offset=0, scope=CouponScope.USER_SPECIFIC)) == ["L3"]
        assert mine(await u.coupons.list(limit=1000, offset=0, coupon_type=CouponType.REFERRAL)) == ["L2"]
        assert mine(await u.coupons.list(limit=1000, offset=0, is_active=False)) == ["L4"]
        assert mine(await u.coupons.list(limit=1000, offset=0, is_active=True, scope=CouponScope.GLOBAL)) == [
            "L2", "L1"]
        newest = await u.coupons.list(limit=2, offset=1)
        assert all(c.created_at >= far for c in newest) and len(newest) == 2


async def test_an_update_changes_only_the_fields_set(uow_factory: UnitOfWorkFactory) -> None:
    [c] = await add(uow_factory, spec(f"UPD-{tag()}", description="before"))
    later = T0 + timedelta(days=9)
    async with uow_factory() as u:
        updated = await u.coupons.update(c.id, CouponChanges(max_uses=20, valid_until=later), now=T0)
        await u.commit()
    assert updated is not None
    assert (updated.max_uses, updated.valid_until, updated.description, updated.is_active, updated.value_usd) == (
        20, later, "before", True, Decimal(5))
    async with uow_factory() as u:
        cleared = await u.coupons.update(c.id, CouponChanges(description=None, is_active=False), now=T0)
        assert await u.coupons.update(10**9, CouponChanges(is_active=False), now=T0) is None
        await u.commit()
    assert cleared is not None and (cleared.description, cleared.is_active, cleared.max_uses) == (None, False, 20)
    async with uow_factory() as u:
        assert await u.coupons.get(c.id) == cleared


async def test_deactivation_happens_once(uow_factory: UnitOfWorkFactory) -> None:
    [c] = await add(uow_factory, spec(f"OFF-{tag()}"))
    async with uow_factory() as u:
        assert await u.coupons.deactivate(c.id, now=T0) is True
        assert await u.coupons.deactivate(c.id, now=T0) is False
        assert await u.coupons.deactivate(10**9, now=T0) is False
        await u.commit()
    async with uow_factory() as u:
        got = await u.coupons.get(c.id)
    assert got is not None and got.is_active is False


async def test_claims_stop_at_max_uses(uow_factory: UnitOfWorkFactory) -> None:
    [c] = await add(uow_factory, spec(f"CLAIM-{tag()}", max_uses=3))
    async with uow_factory() as u:
        got = [await u.coupons.claim_use(c.id, now=T0) for _ in range(5)]
        await u.commit()
    assert [g.times_used if g else None for g in got] == [1, 2, 3, None, None]
    async with uow_factory() as u:
        stored = await u.coupons.get(c.id)
    assert stored is not None and stored.times_used == 3 and stored.remaining_uses == 0


async def test_no_claim_on_an_inactive_coupon_or_outside_its_window(uow_factory: UnitOfWorkFactory) -> None:
    t = tag()
    [c, off] = await add(uow_factory, spec(f"WIN-{t}", valid_from=T0, valid_until=T0 + timedelta(hours=1)),
                         spec(f"INACTIVE-{t}"))
    async with uow_factory() as u:
        await u.coupons.deactivate(off.id, now=T0)
        assert await u.coupons.claim_use(off.id, now=T0) is None
        assert await u.coupons.claim_use(c.id, now=T0 - timedelta(microseconds=1)) is None
        assert await u.coupons.claim_use(c.id, now=T0 + timedelta(hours=1, microseconds=1)) is None
        assert (await u.coupons.claim_use(c.id, now=T0 + timedelta(hours=1))) is not None  # inclusive end
        assert await u.coupons.claim_use(10**9, now=T0) is None
        await u.commit()


async def test_an_uncommitted_claim_is_rolled_back(uow_factory: UnitOfWorkFactory) -> None:
    [c] = await add(uow_factory, spec(f"RB-{tag()}", max_uses=1))
    async with uow_factory() as u:
        assert await u.coupons.claim_use(c.id, now=T0) is not None
    async with uow_factory() as u:
        assert (await u.coupons.claim_use(c.id, now=T0)) is not None


async def test_a_user_redeems_a_coupon_once_and_a_repeat_rolls_back_its_transaction(
        uow_factory: UnitOfWorkFactory) -> None:
    user_id = await new_user(uow_factory)
    [c] = await add(uow_factory, spec(f"ONCE-{tag()}", value_usd=Decimal("0.0000000001")))
    stored = await redeem(uow_factory, c, user_id, before="1.5")
    assert stored.id is not None and stored.id > 0
    assert (stored.value_applied, stored.user_balance_before, stored.user_balance_after, stored.redeemed_at) == (
        Decimal("0.0000000001"), Decimal("1.5"), Decimal("1.5000000001"), T0)
    with pytest.raises(Conflict) as caught:
        await redeem(uow_factory, c, user_id)
    assert caught.value.code == "already_redeemed"
    async with uow_factory() as u:
        assert await u.coupons.has_redeemed(c.id, user_id) is True
        assert await u.coupons.has_redeemed(c.id, user_id + 1) is False
        again = await u.coupons.get(c.id)
    assert again is not None and again.times_used == 1  # the repeat's claim went with its rollback


async def test_the_history_joins_the_coupon_and_lists_newest_first(uow_factory: UnitOfWorkFactory) -> None:
    user_id, other = await new_user(uow_factory), await new_user(uow_factory)
    t = tag()
    [a, b] = await add(uow_factory, spec(f"HA-{t}", value_usd=Decimal("1.25")),
                       spec(f"HB-{t}", coupon_scope=CouponScope.USER_SPECIFIC, assigned_to_user_id=user_id,
                            max_uses=1, coupon_type=CouponType.REFERRAL))
    first = await redeem(uow_factory, a, user_id, at=T0)
    await redeem(uow_factory, b, user_id, at=T0 + timedelta(minutes=1))
    await redeem(uow_factory, a, other, at=T0 + timedelta(minutes=2))
    async with uow_factory() as u:
        history = await u.coupons.history_for(user_id, limit=10)
        assert [(e.coupon_code, e.coupon_scope, e.coupon_type) for e in history] == [
            (f"HB-{t}", CouponScope.USER_SPECIFIC, CouponType.REFERRAL),
            (f"HA-{t}", CouponScope.GLOBAL, CouponType.PROMOTIONAL)]
        assert history[1].redemption == first
        assert [e.coupon_code for e in await u.coupons.history_for(user_id, limit=1)] == [f"HB-{t}"]
        assert await u.coupons.history_for(10**9, limit=10) == []


async def test_available_coupons_are_the_users_redeemable_ones_most_valuable_first(
        uow_factory: UnitOfWorkFactory) -> None:
    me, other = await new_user(uow_factory), await new_user(uow_factory)
    t = tag()
    coupons = await add(
        uow_factory,
        spec(f"V9-{t}", value_usd=Decimal("9")),
        spec(f"V10-{t}", value_usd=Decimal("10")),  # text ordering would put "10" before "9" the wrong way
        spec(f"V10B-{t}", value_usd=Decimal("10"), valid_until=T0 + timedelta(days=2)),
        spec(f"V100-{t}", value_usd=Decimal("100"), valid_from=T0 + timedelta(hours=1)),  # not yet
        spec(f"MINE-{t}", coupon_scope=CouponScope.USER_SPECIFIC, assigned_to_user_id=me, max_uses=1),
        spec(f"THEIRS-{t}", coupon_scope=CouponScope.USER_SPECIFIC, assigned_to_user_id=other, max_uses=1),
        spec(f"FULL-{t}", max_uses=1),
        spec(f"DONE-{t}"),
        spec(f"OFF-{t}"),
        spec(f"OLD-{t}", valid_until=T0 - timedelta(seconds=1)),
    )
    by_code = {c.code.split("-")[0]: c for c in coupons}
    await redeem(uow_factory, by_code["FULL"], other)
    await redeem(uow_factory, by_code["DONE"], me)
    async with uow_factory() as u:
        await u.coupons.deactivate(by_code["OFF"].id, now=T0)
        await u.commit()
    async with uow_factory() as u:
        mine = [c.code.split("-")[0] for c in await u.coupons.available_for(me, now=T0) if c.code.endswith(t)]
        theirs = [c.code.split("-")[0] for c in await u.coupons.available_for(other, now=T0) if c.code.endswith(t)]
    assert mine == ["V10", "V10B", "V9", "MINE"]
    assert theirs == ["V10", "V10B", "V9", "THEIRS", "DONE"]  # ties: the soonest to expire, then the oldest


async def test_usage_and_stats_are_exact_sums_and_distinct_counts(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as u:
        before = await u.coupons.stats()
    a, b = await new_user(uow_factory), await new_user(uow_factory)
    t = tag()
    [tenth, fifth, spare, mine] = await add(
        uow_factory, spec(f"P1-{t}", value_usd=Decimal("0.1")), spec(f"P2-{t}", value_usd=Decimal("0.2")),
        spec(f"SPARE-{t}"), spec(f"U-{t}", coupon_scope=CouponScope.USER_SPECIFIC, assigned_to_user_id=a, max_uses=1))
    async with uow_factory() as u:
        await u.coupons.deactivate(spare.id, now=T0)
        await u.commit()
    for coupon, user in ((tenth, a), (tenth, b), (fifth, a), (mine, a)):
        await redeem(uow_factory, coupon, user)
    async with uow_factory() as u:
        usage = await u.coupons.usage(tenth.id)
        assert (usage.total_redemptions, usage.unique_users, usage.total_value_distributed) == (2, 2, Decimal("0.2"))
        assert await u.coupons.usage(spare.id) == type(usage)()
        after = await u.coupons.stats()
    assert after.total_coupons - before.total_coupons == 4
    assert after.active_coupons - before.active_coupons == 3
    assert after.user_specific_coupons - before.user_specific_coupons == 1
    assert after.global_coupons - before.global_coupons == 3
    assert after.total_redemptions - before.total_redemptions == 4
    assert after.unique_redeemers - before.unique_redeemers == 2
    assert after.total_value_distributed - before.total_value_distributed == Decimal("5.4")
    assert isinstance(after.total_value_distributed, Decimal)
