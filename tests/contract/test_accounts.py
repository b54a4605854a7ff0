"""The account ports (users, API keys, key directory) behave the same on every adapter."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.accounts import NewUser, Role, User
from domain.api_keys import ApiKey, NewApiKey
from domain.errors import Conflict
from ports.uow import UnitOfWorkFactory
from tests.contract.conftest import Backend

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def tag() -> str:
    """A per-test token: the PostgreSQL database is shared by the whole session."""
    return uuid.uuid4().hex[:12]


async def add_user(uow: UnitOfWorkFactory, email: str, *, now: datetime = T0, role: Role = Role.USER) -> User:
    async with uow() as u:
        user = await u.users.add(NewUser(email=email, username=email.split("@")[0], role=role), now=now)
        await u.commit()
    return user


async def add_key(uow: UnitOfWorkFactory, user_id: int, *, key_hash: str | None = None,
                  expires_at: datetime | None = None, name: str = "default") -> ApiKey:
    key_hash = key_hash or uuid.uuid4().hex * 2
    async with uow() as u:
        key = await u.api_keys.add(NewApiKey(user_id=user_id, key_hash=key_hash, prefix="gw_live_abcd",
                                             last4="wxyz", name=name, expires_at=expires_at), now=T0)
        await u.commit()
    return key


async def test_an_added_user_reads_back_field_for_field(uow_factory: UnitOfWorkFactory) -> None:
    email = f"ada-{tag()}@example.com"
    added = await add_user(uow_factory, email, role=Role.ADMIN)
    assert added.id > 0
    async with uow_factory() as u:
        by_id = await u.users.get(added.id)
        by_email = await u.users.get_by_email(email)
        locked = await u.users.get_for_update(added.id)
    assert by_id == by_email == locked == added
    assert (added.email, added.username, added.role, added.is_active) == (email, email.split("@")[0], Role.ADMIN, True)
    assert added.subscription_allowance == 0 and added.purchased_credits == 0
    assert added.created_at == added.updated_at == T0
    assert added.created_at.tzinfo is not None and added.created_at.utcoffset() == timedelta(0)


async def test_unknown_users_are_none(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as u:
        assert await u.users.get(987_654_321) is None
        assert await u.users.get_by_email(f"nobody-{tag()}@example.com") is None
        assert await u.users.get_for_update(987_654_321) is None


async def test_a_second_user_with_the_same_email_is_a_conflict(uow_factory: UnitOfWorkFactory) -> None:
    email = f"twice-{tag()}@example.com"
    await add_user(uow_factory, email)
    with pytest.raises(Conflict):
        async with uow_factory() as u:
            await u.users.add(NewUser(email=email, username="again_" + uuid.uuid4().hex[:12]), now=T0)
            await u.commit()
    async with uow_factory() as u:
        assert await u.users.count(email=email) == 1


async def test_nothing_is_kept_when_the_unit_of_work_is_not_committed(uow_factory: UnitOfWorkFactory) -> None:
    email = f"ghost-{tag()}@example.com"
    async with uow_factory() as u:
        user = await u.users.add(NewUser(email=email, username="ghost_" + uuid.uuid4().hex[:12]), now=T0)
        await u.api_keys.add(NewApiKey(user_id=user.id, key_hash="g" * 64, prefix="p", last4="l"), now=T0)
        assert await u.users.get_by_email(email) is not None  # visible inside its own transaction
    async with uow_factory() as u:
        assert await u.users.get_by_email(email) is None
        assert await u.users.get(user.id) is None


async def test_an_exception_inside_the_unit_of_work_rolls_it_back_and_propagates(
        uow_factory: UnitOfWorkFactory) -> None:
    email = f"boom-{tag()}@example.com"
    with pytest.raises(RuntimeError, match="halfway"):
        async with uow_factory() as u:
            await u.users.add(NewUser(email=email, username="boom_" + uuid.uuid4().hex[:12]), now=T0)
            raise RuntimeError("halfway")
    async with uow_factory() as u:
        assert await u.users.get_by_email(email) is None


async def test_work_after_a_commit_is_still_rolled_back_if_not_committed_again(
        uow_factory: UnitOfWorkFactory) -> None:
    t = tag()
    async with uow_factory() as u:
        await u.users.add(NewUser(email=f"kept-{t}@example.com", username="kept_" + uuid.uuid4().hex[:12]), now=T0)
        await u.commit()
    async with uow_factory() as u:
        await u.users.add(NewUser(
            email=f"dropped-{t}@example.com", username="dropped_" + uuid.uuid4().hex[:12]), now=T0)
    async with uow_factory() as u:
        assert await u.users.get_by_email(f"kept-{t}@example.com") is not None
        assert await u.users.get_by_email(f"dropped-{t}@example.com") is None


@pytest.mark.parametrize("amount", [
    Decimal("0.0000000001"), Decimal("12345678901234567890.0123456789"), Decimal("0.1"), Decimal("-3.0000000007"),
])
async def test_balances_round_trip_exactly_to_ten_places(uow_factory: UnitOfWorkFactory, amount: Decimal) -> None:
    user = await add_user(uow_factory, f"rich-{tag()}@example.com")
    later = T0 + timedelta(minutes=5)
    async with uow_factory() as u:
        await u.users.set_balances(user.id, subscription_allowance=amount, purchased_credits=Decimal("0.0000000001"),
                                   now=later)
        await u.commit()
    async with uow_factory() as u:
        stored = await u.users.get(user.id)
    assert stored is not None
    assert isinstance(stored.subscription_allowance, Decimal)
    assert stored.subscription_allowance == amount
    assert format(stored.subscription_allowance, "f").rstrip("0") == format(amount, "f").rstrip("0")
    assert stored.purchased_credits == Decimal("0.0000000001")
    assert stored.updated_at == later
    assert stored.created_at == T0


async def test_listing_filters_by_email_substring_in_any_case(uow_factory: UnitOfWorkFactory) -> None:
    t = tag()
    for i, local in enumerate(["alpha", "Alphonse", "beta"]):
        await add_user(uow_factory, f"{t}-{local}@example.com", now=T0 + timedelta(seconds=i))
    async with uow_factory() as u:
        found = await u.users.list(limit=10, offset=0, email=f"{t.upper()}-ALPH")
        assert [x.email for x in found] == [f"{t}-Alphonse@example.com", f"{t}-alpha@example.com"]
        assert await u.users.count(email=f"{t}-alph") == 2
        assert await u.users.count(email=t) == 3


async def test_email_filter_wildcards_are_literal(uow_factory: UnitOfWorkFactory) -> None:
    t = tag()
    await add_user(uow_factory, f"{t}_x@example.com")
    await add_user(uow_factory, f"{t}yx@example.com")
    await add_user(uow_factory, f"{t}%z@example.com")
    async with uow_factory() as u:
        assert [x.email for x in await u.users.list(limit=10, offset=0, email=f"{t}_x")] == [f"{t}_x@example.com"]
        assert await u.users.count(email=f"{t}%") == 1
        assert await u.users.count(email=f"{t}") == 3


async def test_listing_is_newest_first_and_pages_with_limit_and_offset(
        uow_factory: UnitOfWorkFactory) -> None:
    t = tag()
    for i in range(5):
        await add_user(uow_factory, f"{t}-{i}@example.com", now=T0 + timedelta(hours=i))
    async with uow_factory() as u:
        assert [x.email for x in await u.users.list(limit=2, offset=1, email=t)] == [
            f"{t}-3@example.com", f"{t}-2@example.com"]
        assert [x.email for x in await u.users.list(limit=10, offset=4, email=t)] == [f"{t}-0@example.com"]
        assert await u.users.list(limit=10, offset=5, email=t) == []


async def test_users_created_at_the_same_instant_list_newest_id_first(uow_factory: UnitOfWorkFactory) -> None:
    t = tag()
    first = await add_user(uow_factory, f"{t}-first@example.com")
    second = await add_user(uow_factory, f"{t}-second@example.com")
    async with uow_factory() as u:
        assert [x.id for x in await u.users.list(limit=10, offset=0, email=t)] == [second.id, first.id]


async def test_listing_and_counting_filter_by_activity(backend: Backend) -> None:
    t = tag()
    active = await add_user(backend.uow, f"{t}-on@example.com")
    inactive = await add_user(backend.uow, f"{t}-off@example.com", now=T0 + timedelta(seconds=1))
    await backend.deactivate_user(inactive.id)
    async with backend.uow() as u:
        assert [x.id for x in await u.users.list(limit=10, offset=0, email=t, is_active=True)] == [active.id]
        off = await u.users.list(limit=10, offset=0, email=t, is_active=False)
        assert [(x.id, x.is_active) for x in off] == [(inactive.id, False)]
        assert await u.users.count(email=t, is_active=False) == 1
        assert await u.users.count(email=t, is_active=None) == 2


async def test_count_without_filters_counts_everyone(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as u:
        before = await u.users.count()
    await add_user(uow_factory, f"one-{tag()}@example.com")
    await add_user(uow_factory, f"two-{tag()}@example.com")
    async with uow_factory() as u:
        assert await u.users.count() == before + 2


async def test_an_added_key_reads_back_and_lists_under_its_user_in_id_order(uow_factory: UnitOfWorkFactory) -> None:
    user = await add_user(uow_factory, f"keys-{tag()}@example.com")
    expiry = T0 + timedelta(days=30)
    first = await add_key(uow_factory, user.id, name="first", expires_at=expiry)
    second = await add_key(uow_factory, user.id, name="second")
    async with uow_factory() as u:
        assert await u.api_keys.get(first.id) == first
        assert [k.id for k in await u.api_keys.list_for_user(user.id)] == [first.id, second.id]
        assert await u.api_keys.get(987_654_321) is None
        assert await u.api_keys.list_for_user(987_654_321) == []
    assert (first.user_id, first.name, first.prefix, first.last4, first.environment) == (
        user.id, "first", "gw_live_abcd", "wxyz", "live")
    assert (first.is_active, first.expires_at, first.last_used_at, first.created_at) == (True, expiry, None, T0)


async def test_a_key_hash_is_unique(uow_factory: UnitOfWorkFactory) -> None:
    user = await add_user(uow_factory, f"dup-{tag()}@example.com")
    digest = uuid.uuid4().hex * 2
    await add_key(uow_factory, user.id, key_hash=digest)
    with pytest.raises(Conflict):
        await add_key(uow_factory, user.id, key_hash=digest)


async def test_the_directory_finds_a_key_and_its_owner_by_hash(backend: Backend) -> None:
    user = await add_user(backend.uow, f"find-{tag()}@example.com", role=Role.ADMIN)
    key = await add_key(backend.uow, user.id)
    principal = await backend.directory.find(key.key_hash)
    assert principal is not None
    assert principal.key == key
    assert principal.user == user
    assert await backend.directory.find("0" * 64) is None


async def test_a_deactivated_key_is_still_found_but_inactive(backend: Backend) -> None:
    user = await add_user(backend.uow, f"revoke-{tag()}@example.com")
    key = await add_key(backend.uow, user.id)
    other = await add_key(backend.uow, user.id)
    async with backend.uow() as u:
        assert await u.api_keys.deactivate(key.id) is True
        assert await u.api_keys.deactivate(987_654_321) is False
        await u.commit()
    principal = await backend.directory.find(key.key_hash)
    assert principal is not None and principal.key.is_active is False
    assert not principal.key.usable_at(T0)
    async with backend.uow() as u:
        untouched = await u.api_keys.get(other.id)
    assert untouched is not None and untouched.is_active


async def test_an_uncommitted_deactivation_is_rolled_back(backend: Backend) -> None:
    user = await add_user(backend.uow, f"undo-{tag()}@example.com")
    key = await add_key(backend.uow, user.id)
    async with backend.uow() as u:
        assert await u.api_keys.deactivate(key.id)
    principal = await backend.directory.find(key.key_hash)
    assert principal is not None and principal.key.is_active


async def test_the_directory_sees_a_deactivated_user(backend: Backend) -> None:
    user = await add_user(backend.uow, f"gone-{tag()}@example.com")
    key = await add_key(backend.uow, user.id)
    await backend.deactivate_user(user.id)
    principal = await backend.directory.find(key.key_hash)
    assert principal is not None and principal.user.is_active is False
