"""The account ports' identity, key-rotation and reset-token operations behave the same on memory,
SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.accounts import NewUser, ProfileChanges, Role
from domain.api_keys import NewApiKey
from domain.errors import Conflict
from ports.uow import UnitOfWorkFactory
from tests.contract.conftest import Backend

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def tag() -> str:
    return uuid.uuid4().hex[:12]


async def new_user(uow: UnitOfWorkFactory, **fields: object) -> int:
    t = tag()
    values: dict[str, object] = {"email": f"id-{t}@example.com", "username": f"id_{t}", **fields}
    async with uow() as u:
        user = await u.users.add(NewUser(**values), now=T0)  # type: ignore[arg-type]
        await u.commit()
    return user.id


async def test_identity_fields_read_back_and_lookups_ignore_case(uow_factory: UnitOfWorkFactory) -> None:
    t = tag()
    user_id = await new_user(
        uow_factory, email=f"mixed-{t}@example.com", username=f"Mixed_{t}", privy_user_id=f"did:privy:{t}",
        display_name="Ada", phone_number="+1555", auth_method="google", password_hash="$argon2id$stub",
        subscription_status="trial", trial_started_at=T0, trial_expires_at=T0 + timedelta(days=3),
        trial_credits=Decimal("5.00"), referred_by_code=None)
    async with uow_factory() as u:
        user = await u.users.get(user_id)
        assert user is not None
        assert (user.display_name, user.phone_number, user.auth_method, user.has_password) == (
            "Ada", "+1555", "google", True)
        assert (user.subscription_status, user.trial_expires_at, user.trial_credits) == (
            "trial", T0 + timedelta(days=3), Decimal("5.00"))
        assert user.referral_code is not None and len(user.referral_code) == 8 and user.preferences == {}
        assert await u.users.get_by_email(f"MIXED-{t}@EXAMPLE.COM") == user
        assert await u.users.get_by_username(f"mixed_{t}") == user
        assert await u.users.get_by_privy_id(f"did:privy:{t}") == user
        assert await u.users.get_by_referral_code(user.referral_code.lower()) == user
        assert await u.users.password_hash(user_id) == "$argon2id$stub"


async def test_unique_indexes_name_what_they_refused(uow_factory: UnitOfWorkFactory) -> None:
    t = tag()
    await new_user(uow_factory, email=f"u-{t}@example.com", username=f"u_{t}", privy_user_id=f"p-{t}")
    for fields, code in (({"email": f"U-{t}@example.com"}, "email_taken"), ({"username": f"U_{t}"}, "username_taken"),
                         ({"privy_user_id": f"p-{t}"}, "privy_taken")):
        async with uow_factory() as u:
            base = {"email": f"x-{tag()}@example.com", "username": f"x_{tag()}"}
            with pytest.raises(Conflict) as refused:
                await u.users.add(NewUser(**{**base, **fields}), now=T0)  # type: ignore[arg-type]
            assert refused.value.code == code
            # the unit of work is still usable after the refusal
            assert await u.users.add(NewUser(**base), now=T0) is not None  # type: ignore[arg-type]


async def test_linking_profile_trial_conversion_and_erasure(uow_factory: UnitOfWorkFactory) -> None:
    user_id = await new_user(uow_factory, subscription_status="trial", trial_expires_at=T0 + timedelta(days=1))
    other_id = await new_user(uow_factory)
    t = tag()
    async with uow_factory() as u:
        assert await u.users.link_privy(user_id, f"did:{t}", now=T0)
        assert not await u.users.link_privy(user_id, f"did:{t}-again", now=T0)  # already linked
        with pytest.raises(Conflict):
            await u.users.link_privy(other_id, f"did:{t}", now=T0)
        changed = await u.users.update_profile(user_id, ProfileChanges(display_name="New", preferences={"a": 1}),
                                               now=T0 + timedelta(minutes=1))
        changed = await u.users.update_profile(user_id, ProfileChanges(preferences={"b": True}), now=T0)
        assert changed.display_name == "New" and changed.preferences == {"a": 1, "b": True}
        taken = (await u.users.get(other_id)).username  # type: ignore[union-attr]
        with pytest.raises(Conflict) as refused:
            await u.users.update_profile(user_id, ProfileChanges(username=taken.upper()), now=T0)
        assert refused.value.code == "username_taken"
        assert await u.users.convert_trial(user_id, now=T0)
        assert not await u.users.convert_trial(user_id, now=T0)
        converted = await u.users.get(user_id)
        assert converted is not None and converted.subscription_status == "active"
        assert converted.trial_converted_at == T0
        await u.users.set_password_hash(user_id, "$argon2id$x", now=T0)
        await u.users.mark_welcome_sent(user_id)
        await u.users.erase(user_id, now=T0)
        gone = await u.users.get(user_id)
        assert gone is not None
        assert (gone.email, gone.username, gone.privy_user_id, gone.has_password, gone.is_active) == (
            f"deleted-{user_id}@invalid", f"deleted-{user_id}", None, False, False)
        assert gone.deleted_at == T0 and gone.welcome_email_sent
        await u.commit()


async def test_rotation_keeps_the_previous_digest_for_the_grace(uow_factory: UnitOfWorkFactory,
                                                                backend: Backend) -> None:
    user_id = await new_user(uow_factory)
    old, new = uuid.uuid4().hex * 2, uuid.uuid4().hex * 2
    async with uow_factory() as u:
        key = await u.api_keys.add(NewApiKey(user_id=user_id, key_hash=old, prefix="gw_live_abcd", last4="wxyz",
                                             kind="login", scopes=("inference",), ip_allowlist=("10.0.0.0/8",),
                                             domain_referrers=("*.example.com",)), now=T0)
        assert (key.kind, key.scopes, key.ip_allowlist, key.domain_referrers) == (
            "login", ("inference",), ("10.0.0.0/8",), ("*.example.com",))
        rotated = await u.api_keys.rotate(key.id, key_hash=new, prefix="gw_live_efgh", last4="abcd",
                                          previous_valid_until=T0 + timedelta(minutes=5), now=T0)
        assert rotated is not None and rotated.key_hash == new and rotated.previous_key_hash == old
        assert rotated.rotated_at == T0 and rotated.scopes == ("inference",)
        await u.commit()
    by_old, by_new = await backend.directory.find(old), await backend.directory.find(new)
    assert by_old is not None and by_new is not None and by_old.key.id == by_new.key.id == key.id
    async with uow_factory() as u:
        assert await u.api_keys.deactivate(key.id, now=T0)
        assert not await u.api_keys.deactivate(key.id, now=T0)  # not active any more
        revoked = await u.api_keys.get(key.id)
        assert revoked is not None and revoked.revoked_at == T0 and revoked.previous_key_hash is None
        assert await u.api_keys.rotate(key.id, key_hash=old, prefix="p", last4="l", previous_valid_until=None,
                                       now=T0) is None
        await u.commit()
    assert await backend.directory.find(old) is None


async def test_reset_tokens_are_consumed_once_and_only_unexpired(uow_factory: UnitOfWorkFactory) -> None:
    user_id = await new_user(uow_factory)
    live, stale, earlier = (uuid.uuid4().hex * 2 for _ in range(3))
    async with uow_factory() as u:
        await u.reset_tokens.add(user_id=user_id, token_hash=earlier, expires_at=T0 + timedelta(hours=1), now=T0,
                                 requester_ip="203.0.113.1")
        await u.reset_tokens.invalidate_for_user(user_id, now=T0)
        await u.reset_tokens.add(user_id=user_id, token_hash=live, expires_at=T0 + timedelta(hours=1), now=T0,
                                 requester_ip=None)
        await u.reset_tokens.add(user_id=user_id, token_hash=stale, expires_at=T0 - timedelta(seconds=1), now=T0,
                                 requester_ip=None)
        await u.commit()
    async with uow_factory() as u:
        assert await u.reset_tokens.consume(earlier, now=T0) is None  # invalidated by the newer request
        assert await u.reset_tokens.consume(stale, now=T0) is None  # expired
        found = await u.reset_tokens.find(stale)
        assert found is not None and found.used_at is None  # an expired token stays unused
        assert await u.reset_tokens.consume(live, now=T0) == user_id
        assert await u.reset_tokens.consume(live, now=T0) is None
        assert await u.reset_tokens.consume("0" * 64, now=T0) is None
        await u.commit()
    async with uow_factory() as u:
        await u.reset_tokens.delete_for_user(user_id)
        assert await u.reset_tokens.find(live) is None
        await u.commit()


async def test_count_active_admins(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as u:
        before = await u.users.count_active_admins()
    await new_user(uow_factory, role=Role.ADMIN)
    async with uow_factory() as u:
        assert await u.users.count_active_admins() == before + 1
