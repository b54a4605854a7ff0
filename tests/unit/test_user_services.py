import asyncio
from datetime import timedelta
from decimal import Decimal

import msgspec
import pytest

from adapters.memory.ids import SequentialIdGenerator
from domain.accounts import Role
from domain.api_keys import hash_key
from domain.audit import API_KEY_CREATED, API_KEY_REVOKED, UNAUTHORIZED_ADMIN_ACCESS, USER_CREATED
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceUnavailable
from domain.ledger import CreditTransaction, TransactionType
from domain.services.check_readiness import CheckReadiness
from tests.unit.accounts_world import SECRET, World, build_world


def counts(w: World) -> tuple[int, int, int, int]:
    return len(w.store.users), len(w.store.api_keys), len(w.store.ledger), len(w.store.audit)


async def ledger_sum(w: World, user_id: int) -> Decimal:
    async with w.uow() as uow:
        return await uow.ledger.sum_for_user(user_id)


async def test_creating_a_user_with_credits_writes_one_admin_credit_row_that_explains_the_balance() -> None:
    w = build_world()
    created = await w.create_user(email="ada@example.com", credits=Decimal("5"), created_by="admin:1")
    rows = [r for r in w.store.ledger if r.user_id == created.user.id]
    assert len(rows) == 1
    row = rows[0]
    assert row.transaction_type is TransactionType.ADMIN_CREDIT
    assert (row.amount, row.balance_before, row.balance_after) == (Decimal(5), Decimal(0), Decimal(5))
    assert row.created_by == "admin:1"
    assert row.created_at == w.clock.now()
    stored = w.store.users[created.user.id]
    assert stored.purchased_credits == Decimal(5)
    assert stored.subscription_allowance == 0
    assert created.user.balance == stored.balance == await ledger_sum(w, created.user.id) == Decimal(5)


async def test_creating_a_user_without_credits_writes_no_ledger_row() -> None:
    w = build_world()
    created = await w.create_user(email="ada@example.com")
    assert w.store.ledger == []
    assert created.user.balance == 0 == await ledger_sum(w, created.user.id)


async def test_opening_credits_are_kept_to_ten_decimal_places() -> None:
    w = build_world()
    created = await w.create_user(email="ada@example.com", credits=Decimal("1.123456789049"))
    assert created.user.purchased_credits == Decimal("1.1234567890")
    assert w.store.ledger[0].amount == Decimal("1.1234567890")
    assert w.store.users[created.user.id].balance == await ledger_sum(w, created.user.id)


async def test_a_new_user_gets_a_working_key_whose_plaintext_is_not_stored() -> None:
    w = build_world()
    created = await w.create_user(email="ada@example.com")
    principal = await w.authenticate(created.api_key)
    assert principal.user.id == created.user.id
    assert principal.key.id == created.api_key_id
    stored = w.store.api_keys[created.api_key_id]
    assert stored.key_hash == hash_key(SECRET, created.api_key)
    assert (stored.prefix, stored.last4) == (created.api_key[:12], created.api_key[-4:])
    everything = msgspec.json.encode([w.store.users, w.store.api_keys, w.store.ledger, w.store.audit]).decode()
    assert created.api_key not in everything
    assert created.api_key[8:] not in everything


async def test_the_email_is_stored_lower_case_and_the_username_defaults_to_its_local_part() -> None:
    w = build_world()
    created = await w.create_user(email="  Ada.Lovelace@Example.COM ")
    assert created.user.email == "ada.lovelace@example.com"
    assert created.user.username == "ada.lovelace"
    assert created.user.role is Role.USER
    admin = await w.create_user(email="root@example.com", username="root", admin=True)
    assert admin.user.role is Role.ADMIN and admin.user.username == "root"


async def test_a_duplicate_email_in_any_case_is_a_conflict_and_writes_nothing() -> None:
    w = build_world()
    await w.create_user(email="ada@example.com", credits=Decimal(1))
    before = counts(w)
    with pytest.raises(Conflict):
        await w.create_user(email="ADA@example.com", credits=Decimal(1))
    assert counts(w) == before


@pytest.mark.parametrize("email", ["", "no-at-sign", "a@b", "a b@c.de", "@example.com", "ada@", "x" * 250 + "@e.com"])
async def test_a_malformed_email_is_invalid_input_naming_the_field_and_writes_nothing(email: str) -> None:
    w = build_world()
    with pytest.raises(InvalidInput) as caught:
        await w.create_user(email=email, credits=Decimal(1))
    assert caught.value.field == "email"
    assert counts(w) == (0, 0, 0, 0)


async def test_negative_opening_credits_are_invalid_input_and_write_nothing() -> None:
    w = build_world()
    with pytest.raises(InvalidInput) as caught:
        await w.create_user(email="ada@example.com", credits=Decimal("-0.01"))
    assert caught.value.field == "credits"
    assert counts(w) == (0, 0, 0, 0)


@pytest.mark.parametrize("credits", [Decimal("1e20"), Decimal("1e30"), Decimal("NaN"), Decimal("Infinity")])
async def test_opening_credits_beyond_the_ledgers_range_are_invalid_input(credits: Decimal) -> None:
    w = build_world()
    with pytest.raises(InvalidInput) as caught:
        await w.create_user(email="ada@example.com", credits=credits)
    assert caught.value.field == "credits"
    assert counts(w) == (0, 0, 0, 0)


async def test_an_overlong_username_is_invalid_input() -> None:
    w = build_world()
    with pytest.raises(InvalidInput) as caught:
        await w.create_user(email="ada@example.com", username="u" * 101)
    assert caught.value.field == "username"
    assert counts(w) == (0, 0, 0, 0)


class FailingKeys(SequentialIdGenerator):
    def key_body(self) -> str:
        raise RuntimeError("entropy ran out")


async def test_user_creation_is_all_or_nothing_when_issuing_the_key_fails() -> None:
    w = build_world(ids=FailingKeys())
    with pytest.raises(RuntimeError):
        await w.create_user(email="ada@example.com", credits=Decimal(5))
    assert counts(w) == (0, 0, 0, 0)


async def test_creating_a_user_audits_the_user_and_the_key() -> None:
    w = build_world()
    created = await w.create_user(email="ada@example.com", created_by="cli")
    events = {e.event_type: e for e in w.store.audit}
    assert set(events) == {USER_CREATED, API_KEY_CREATED}
    assert events[USER_CREATED].user_id == created.user.id
    assert events[USER_CREATED].details == {"by": "cli"}
    assert events[API_KEY_CREATED].api_key_id == created.api_key_id


async def test_issuing_a_key_for_an_unknown_user_is_not_found_and_writes_nothing() -> None:
    w = build_world()
    with pytest.raises(NotFound):
        await w.issue_api_key(42)
    assert counts(w) == (0, 0, 0, 0)


@pytest.mark.parametrize("name", ["", "n" * 101])
async def test_a_key_name_must_be_1_to_100_characters(name: str) -> None:
    w = build_world()
    created = await w.create_user(email="ada@example.com")
    with pytest.raises(InvalidInput) as caught:
        await w.issue_api_key(created.user.id, name=name)
    assert caught.value.field == "name"
    assert len(w.store.api_keys) == 1


async def test_an_issued_key_keeps_its_name_and_expiry() -> None:
    w = build_world()
    created = await w.create_user(email="ada@example.com")
    expiry = w.clock.now() + timedelta(days=30)
    issued = await w.issue_api_key(created.user.id, name="ci", expires_at=expiry)
    stored = w.store.api_keys[issued.key.id]
    assert (stored.name, stored.expires_at, stored.user_id, stored.is_active) == ("ci", expiry, created.user.id, True)
    assert issued.plaintext != created.api_key


async def test_revoking_a_key_deactivates_it_audits_it_and_announces_its_hash() -> None:
    w = build_world()
    created = await w.create_user(email="ada@example.com")
    await w.revoke_api_key(created.api_key_id, revoked_by="admin:7")
    key = w.store.api_keys[created.api_key_id]
    assert key.is_active is False
    assert w.bus.published == [("keys", key.key_hash)]
    revoked = [e for e in w.store.audit if e.event_type == API_KEY_REVOKED]
    assert len(revoked) == 1
    assert (revoked[0].api_key_id, revoked[0].user_id, revoked[0].details) == (
        created.api_key_id, created.user.id, {"by": "admin:7"})


async def test_revoking_an_unknown_key_is_not_found_and_announces_nothing() -> None:
    w = build_world()
    with pytest.raises(NotFound):
        await w.revoke_api_key(99)
    assert w.bus.published == []
    assert w.store.audit == []


async def test_an_admin_passes_the_admin_check_without_an_audit_row() -> None:
    w = build_world()
    created = await w.create_user(email="root@example.com", admin=True)
    audit_before = list(w.store.audit)
    await w.authorize_admin(await w.authenticate(created.api_key), method="GET", path="/admin/users",
                            client_ip="10.0.0.1")
    assert w.store.audit == audit_before


async def test_a_non_admin_is_recorded_as_unauthorized_admin_access_then_forbidden() -> None:
    w = build_world()
    created = await w.create_user(email="ada@example.com")
    principal = await w.authenticate(created.api_key)
    with pytest.raises(Forbidden):
        await w.authorize_admin(principal, method="DELETE", path="/admin/users/1", client_ip="10.0.0.9")
    refused = [e for e in w.store.audit if e.event_type == UNAUTHORIZED_ADMIN_ACCESS]
    assert len(refused) == 1
    event = refused[0]
    assert (event.user_id, event.api_key_id, event.created_at) == (created.user.id, created.api_key_id,
                                                                   w.clock.now())
    assert event.details == {"method": "DELETE", "path": "/admin/users/1", "client_ip": "10.0.0.9"}


async def test_listing_users_filters_by_email_substring_in_any_case_and_by_activity() -> None:
    w = build_world()
    for email in ["ada@example.com", "bob@example.com", "adam@test.org"]:
        await w.create_user(email=email)
        w.clock.advance(1)
    adam = next(u for u in w.store.users.values() if u.email == "adam@test.org")
    w.store.users[adam.id] = msgspec.structs.replace(adam, is_active=False)
    page = await w.list_users(email="ADA")
    assert [u.email for u in page.users] == ["adam@test.org", "ada@example.com"]  # newest first
    assert page.total == 2
    assert [u.email for u in (await w.list_users(email="ada", is_active=True)).users] == ["ada@example.com"]
    assert [u.email for u in (await w.list_users(is_active=False)).users] == ["adam@test.org"]
    paged = await w.list_users(limit=1, offset=1)
    assert ([u.email for u in paged.users], paged.total, paged.limit, paged.offset) == (
        ["bob@example.com"], 3, 1, 1)
    assert await w.count_users() == 3


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"limit": 0}, "limit"), ({"limit": 10_001}, "limit"), ({"offset": -1}, "offset"),
])
async def test_listing_users_refuses_out_of_range_paging(kwargs: dict[str, int], field: str) -> None:
    w = build_world()
    with pytest.raises(InvalidInput) as caught:
        await w.list_users(**kwargs)
    assert caught.value.field == field


async def test_showing_a_user_gives_their_keys_and_their_ten_newest_transactions() -> None:
    w = build_world()
    created = await w.create_user(email="ada@example.com", credits=Decimal(1))
    await w.issue_api_key(created.user.id, name="second")
    async with w.uow() as uow:
        for i in range(12):
            w.clock.advance(1)
            await uow.ledger.append(CreditTransaction(
                user_id=created.user.id, amount=Decimal(1), transaction_type=TransactionType.BONUS,
                balance_before=Decimal(i + 1), balance_after=Decimal(i + 2), description=f"bonus {i}",
                created_at=w.clock.now()))
        await uow.commit()
    details = await w.show_user(created.user.id)
    assert details.user.id == created.user.id
    assert [k.name for k in details.api_keys] == ["default", "second"]
    assert [t.description for t in details.recent_transactions] == [f"bonus {i}" for i in range(11, 1, -1)]


async def test_showing_an_unknown_user_is_not_found() -> None:
    with pytest.raises(NotFound):
        await build_world().show_user(404)


class Probe:
    def __init__(self, name: str, *, fail: str | None = None, delay: float = 0.0) -> None:
        self.name = name
        self._fail = fail
        self._delay = delay

    async def check(self) -> None:
        await asyncio.sleep(self._delay)
        if self._fail:
            raise ServiceUnavailable(self._fail, reason=self.name)


async def test_readiness_names_each_dependency_with_ok_or_the_reason_it_failed() -> None:
    check = CheckReadiness([Probe("database"), Probe("redis", fail="Redis unavailable"),
                            Probe("slow", delay=5.0)], timeout_s=0.05)
    assert await asyncio.wait_for(check(), 1.0) == {
        "database": "ok", "redis": "Redis unavailable", "slow": "timeout"}
