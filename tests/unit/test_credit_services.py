"""The credit use cases over the memory twins: grants under the cap and the rolling daily limit,
adjustments, bulk grants, refunds, Idempotency-Key replays, the read side and ledger verification."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import msgspec
import pytest

from domain.credits import CreditOperationRefused
from domain.errors import Conflict, InvalidInput, NotFound
from domain.holds import Hold
from domain.invalidation import USERS_TOPIC
from domain.ledger import TransactionType
from domain.ledger_check import MismatchKind
from domain.services.credit_queries import SystemCreditSummary, UserCreditSummary
from tests.unit.credits_world import build_credits_world

REASON = "customer support grant"


async def test_a_grant_by_api_key_adds_purchased_credits_with_an_admin_credit_row() -> None:
    c = build_credits_world()
    admin = await c.admin()
    user, key = await c.user("ada@example.com", credits=5)
    await c.holds.prime(user.id, Decimal(5))
    done = await c.grant(admin, api_key=key, credits=Decimal("10.25"), reason=REASON)
    change = done.value
    assert not done.replayed
    assert (change.user_id, change.username, change.previous_balance, change.new_balance) == (
        user.id, "ada", Decimal(5), Decimal("15.25"))
    row = c.w.store.ledger[-1]
    assert (row.transaction_type, row.amount, row.created_by, row.description) == (
        TransactionType.ADMIN_CREDIT, Decimal("10.25"), f"admin:{admin.id}", REASON)
    assert row.metadata == {"reason": REASON, "admin_user_id": admin.id, "admin_username": "root"}
    assert c.w.store.users[user.id].purchased_credits == Decimal("15.25")
    assert (USERS_TOPIC, str(user.id)) in c.w.bus.published
    assert user.id not in c.holds.balances  # the hold store re-reads the balance next time
    assert key not in repr(c.w.store.ledger) and key not in repr(c.w.store.idempotency)


async def test_a_grant_over_the_cap_or_to_an_unknown_key_changes_nothing() -> None:
    c = build_credits_world()
    admin = await c.admin()
    user, key = await c.user("ada@example.com")
    rows = len(c.w.store.ledger)
    with pytest.raises(CreditOperationRefused, match="maximum single grant of \\$100"):
        await c.grant(admin, api_key=key, credits=Decimal("100.0000000001"), reason=REASON)
    with pytest.raises(NotFound):
        await c.grant(admin, api_key="gw_live_" + "z" * 43, credits=Decimal(1), reason=REASON)
    with pytest.raises(NotFound):
        await c.grant(admin, api_key="garbage", credits=Decimal(1), reason=REASON)
    for credits, reason in ((Decimal(0), REASON), (Decimal(-1), REASON), (Decimal("NaN"), REASON),
                            (Decimal("Infinity"), REASON), (Decimal(10) ** 13, REASON), (Decimal(1), "too short")):
        with pytest.raises(InvalidInput):
            await c.grant(admin, api_key=key, credits=credits, reason=reason)
    assert len(c.w.store.ledger) == rows and c.balance_of(user.id) == 0


async def test_the_daily_limit_is_a_rolling_24_hours_per_admin() -> None:
    c = build_credits_world()
    admin, other_admin = await c.admin(), await c.admin("ops@example.com")
    user, _ = await c.user("ada@example.com")
    await c.add(admin, user_id=user.id, amount=Decimal(100), reason=REASON)
    c.w.clock.advance(3600)
    await c.add(admin, user_id=user.id, amount=Decimal(100), reason=REASON)
    await c.refund(admin, user_id=user.id, amount=Decimal(1000))  # refunds are not grants
    await c.adjust(admin, user_id=user.id, amount=Decimal(-50), reason=REASON)  # debits neither
    with pytest.raises(CreditOperationRefused, match="remaining: \\$50"):
        await c.add(admin, user_id=user.id, amount=Decimal("50.01"), reason=REASON)
    await c.add(other_admin, user_id=user.id, amount=Decimal(100), reason=REASON)
    c.w.clock.advance(23 * 3600 - 1)  # the first grant is 24h - 1s old: still counted
    with pytest.raises(CreditOperationRefused):
        await c.add(admin, user_id=user.id, amount=Decimal("50.01"), reason=REASON)
    c.w.clock.advance(2)  # 24h + 1s old: it has left the window
    await c.add(admin, user_id=user.id, amount=Decimal(100), reason=REASON)
    assert c.balance_of(user.id) == Decimal(1350)
    assert (await c.verify()).ok


async def test_the_limit_is_checked_before_the_target_is_looked_up() -> None:
    c = build_credits_world(daily_limit="10")
    admin = await c.admin()
    with pytest.raises(CreditOperationRefused):
        await c.add(admin, user_id=999, amount=Decimal(11), reason=REASON)
    with pytest.raises(NotFound, match="User 999 not found"):
        await c.add(admin, user_id=999, amount=Decimal(1), reason=REASON)


async def test_an_adjustment_is_a_grant_when_positive_and_a_debit_that_keeps_the_balance_non_negative() -> None:
    c = build_credits_world()
    admin = await c.admin()
    user, _ = await c.user("ada@example.com", credits=10)
    up = (await c.adjust(admin, user_id=user.id, amount=Decimal(5), reason=REASON)).value
    assert c.w.store.ledger[-1].transaction_type is TransactionType.ADMIN_CREDIT and up.new_balance == 15
    with pytest.raises(CreditOperationRefused,
                       match=r"negative balance\. Current balance: 15, adjustment: -15\.0000000001$"):
        await c.adjust(admin, user_id=user.id, amount=Decimal("-15.0000000001"), reason=REASON)
    down = (await c.adjust(admin, user_id=user.id, amount=Decimal(-15), reason=REASON)).value
    assert c.w.store.ledger[-1].transaction_type is TransactionType.ADMIN_DEBIT and down.new_balance == 0
    with pytest.raises(InvalidInput):
        await c.adjust(admin, user_id=user.id, amount=Decimal(0), reason=REASON)
    with pytest.raises(CreditOperationRefused):
        await c.adjust(admin, user_id=user.id, amount=Decimal(101), reason=REASON)


async def test_a_bulk_grant_credits_each_distinct_user_once_and_reports_the_unknown() -> None:
    c = build_credits_world()
    admin = await c.admin()
    a, _ = await c.user("a@example.com")
    b, _ = await c.user("b@example.com")
    grant = (await c.bulk(admin, user_ids=[a.id, b.id, a.id, 999], amount=Decimal(20), reason=REASON)).value
    assert (grant.status, grant.successful, grant.failed, grant.total_added) == ("partial", 2, 1, Decimal(40))
    assert [o.user_id for o in grant.outcomes] == [a.id, b.id, 999]
    assert grant.outcomes[2].error == "User 999 not found"
    assert c.balance_of(a.id) == c.balance_of(b.id) == 20
    assert c.w.store.ledger[-1].metadata["bulk_operation"] is True
    with pytest.raises(CreditOperationRefused):  # 3 x 71 > 250 - 40 (rows written, not users listed)
        await c.bulk(admin, user_ids=[a.id, b.id, 999], amount=Decimal(71), reason=REASON)
    failed = (await c.bulk(admin, user_ids=[998, 999], amount=Decimal(1), reason=REASON)).value
    assert failed.status == "failed"
    for ids in ([], list(range(101))):
        with pytest.raises(InvalidInput):
            await c.bulk(admin, user_ids=ids, amount=Decimal(1), reason=REASON)


async def test_a_refund_names_only_a_transaction_of_the_same_user() -> None:
    c = build_credits_world()
    admin = await c.admin()
    a, _ = await c.user("a@example.com", credits=3)
    b, _ = await c.user("b@example.com", credits=4)
    theirs = next(r for r in c.w.store.ledger if r.user_id == b.id)
    mine = next(r for r in c.w.store.ledger if r.user_id == a.id)
    with pytest.raises(CreditOperationRefused, match=f"Transaction {theirs.id} does not belong to user {a.id}"):
        await c.refund(admin, user_id=a.id, amount=Decimal(1), original_transaction_id=theirs.id)
    with pytest.raises(NotFound):
        await c.refund(admin, user_id=a.id, amount=Decimal(1), original_transaction_id=12345)
    with pytest.raises(NotFound):
        await c.refund(admin, user_id=777, amount=Decimal(1))
    done = (await c.refund(admin, user_id=a.id, amount=Decimal(1), original_transaction_id=mine.id,
                           reason="double charge")).value
    row = c.w.store.ledger[-1]
    assert (row.transaction_type, row.description, row.metadata["original_transaction_id"]) == (
        TransactionType.REFUND, "Refund: double charge", mine.id)
    assert done.new_balance == 4 and c.balance_of(b.id) == 4


async def test_an_idempotency_key_replays_the_stored_result_and_changes_nothing() -> None:
    c = build_credits_world()
    admin = await c.admin()
    user, key = await c.user("ada@example.com")
    first = await c.add(admin, user_id=user.id, amount=Decimal(5), reason=REASON, idempotency_key="k1")
    published = len(c.w.bus.published)
    c.w.clock.advance(60)
    again = await c.add(admin, user_id=user.id, amount=Decimal("5.00"), reason=REASON, idempotency_key="k1")
    assert again.replayed and again.value == first.value
    assert c.balance_of(user.id) == 5 and len(c.w.bus.published) == published
    with pytest.raises(Conflict) as reused:
        await c.add(admin, user_id=user.id, amount=Decimal(6), reason=REASON, idempotency_key="k1")
    assert reused.value.code == "idempotency_key_reused"
    # the same key in another operation or from another admin is another key
    other = await c.admin("ops@example.com")
    assert not (await c.adjust(admin, user_id=user.id, amount=Decimal(1), reason=REASON,
                               idempotency_key="k1")).replayed
    assert not (await c.add(other, user_id=user.id, amount=Decimal(5), reason=REASON, idempotency_key="k1")).replayed
    bulk = await c.bulk(admin, user_ids=[user.id, 999], amount=Decimal(1), reason=REASON, idempotency_key="b")
    assert (await c.bulk(admin, user_ids=[user.id, 999], amount=Decimal(1), reason=REASON,
                         idempotency_key="b")).value == bulk.value
    by_key = await c.grant(admin, api_key=key, credits=Decimal(2), reason=REASON, idempotency_key="g")
    assert (await c.grant(admin, api_key=key, credits=Decimal(2), reason=REASON, idempotency_key="g")).value == \
        by_key.value
    assert c.balance_of(user.id) == 14
    with pytest.raises(InvalidInput):
        await c.add(admin, user_id=user.id, amount=Decimal(1), reason=REASON, idempotency_key="x" * 256)
    with pytest.raises(InvalidInput):
        await c.add(admin, user_id=user.id, amount=Decimal(1), reason=REASON, idempotency_key=" ")


async def test_a_refused_write_leaves_its_idempotency_key_free() -> None:
    c = build_credits_world()
    admin = await c.admin()
    user, _ = await c.user("ada@example.com")
    with pytest.raises(CreditOperationRefused):
        await c.adjust(admin, user_id=user.id, amount=Decimal(-1), reason=REASON, idempotency_key="k")
    assert c.w.store.idempotency == {}
    await c.add(admin, user_id=user.id, amount=Decimal(1), reason=REASON)
    assert not (await c.adjust(admin, user_id=user.id, amount=Decimal(-1), reason=REASON,
                               idempotency_key="k")).replayed


async def test_balance_reports_the_users_open_holds() -> None:
    c = build_credits_world()
    user, _ = await c.user("ada@example.com", credits=10)
    other, _ = await c.user("bob@example.com", credits=10)
    now = c.w.clock.now().timestamp()
    c.holds.holds[user.id] = {"r1": Hold(user_id=user.id, request_id="r1", amount=Decimal("1.5"), expires_at=now + 60),
                              "r0": Hold(user_id=user.id, request_id="r0", amount=Decimal(9), expires_at=now - 1)}
    c.holds.holds[other.id] = {"r2": Hold(user_id=other.id, request_id="r2", amount=Decimal(2), expires_at=now + 60)}
    view = await c.balance(user.id)
    assert (view.balances.total, view.held) == (Decimal(10), Decimal("1.5"))
    report = await c.verify()
    assert (report.open_holds, report.held) == (2, Decimal("3.5"))


async def test_search_and_summary_over_the_memory_ledger() -> None:
    c = build_credits_world()
    admin = await c.admin()
    user, _ = await c.user("ada@example.com", credits=10)
    c.w.clock.advance(86400)
    await c.adjust(admin, user_id=user.id, amount=Decimal(-4), reason=REASON)
    page = await c.search(user_id=user.id, sort_by="amount", sort_order="asc", limit=1)
    assert [t.amount for t in page.transactions] == [Decimal(-4)] and page.has_more
    assert (await c.search(user_id=user.id, direction="credit")).transactions[0].amount == 10
    for bad in ({"direction": "x"}, {"sort_by": "x"}, {"sort_order": "x"}):
        with pytest.raises(CreditOperationRefused):
            await c.search(**bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        await c.search(limit=1001)
    summary = await c.summarize(user_id=user.id)
    assert isinstance(summary, UserCreditSummary)
    s = summary.summary
    assert (s.total_transactions, s.credits_added, s.credits_used, s.net_change) == (2, 10, 4, 6)
    assert [(d.credits_added, d.credits_used, d.count) for d in s.daily] == [(10, 0, 1), (0, 4, 1)]
    day2 = (await c.summarize(user_id=user.id, from_date=c.w.clock.now().date().isoformat())).summary
    assert day2.total_transactions == 1
    system = await c.summarize()
    assert isinstance(system, SystemCreditSummary)
    assert (system.balances.users, system.balances.total) == (2, Decimal(6))
    assert system.summary.daily == [] and system.summary.largest_credit is None
    own = await c.own(user.id, limit=1)
    assert [t.amount for t in own.transactions] == [Decimal(-4)] and own.has_more


async def test_verification_finds_a_broken_row_a_broken_chain_and_an_unexplained_balance() -> None:
    c = build_credits_world()
    admin = await c.admin()
    a, _ = await c.user("a@example.com", credits=10)
    b, _ = await c.user("b@example.com", credits=10)
    d, _ = await c.user("d@example.com", credits=10)
    for user in (a, b, d):
        await c.adjust(admin, user_id=user.id, amount=Decimal(-3), reason=REASON)
    clean = await c.verify()
    assert clean.ok and (clean.users_checked, clean.rows_checked) == (4, 6)
    ledger = c.w.store.ledger
    i = next(i for i, r in enumerate(ledger) if r.user_id == a.id and r.amount == -3)
    ledger[i] = msgspec.structs.replace(ledger[i], amount=Decimal(-2))  # arithmetic and sum both break
    j = next(j for j, r in enumerate(ledger) if r.user_id == b.id and r.amount == -3)
    ledger[j] = msgspec.structs.replace(ledger[j], balance_before=Decimal(11), balance_after=Decimal(8))
    c.w.store.users[d.id] = msgspec.structs.replace(c.w.store.users[d.id], purchased_credits=Decimal(8))
    report = await c.verify()
    assert not report.ok
    found = {(m.user_id, m.kind) for m in report.mismatches}
    assert found == {(a.id, MismatchKind.ROW_ARITHMETIC), (a.id, MismatchKind.BALANCE),
                     (b.id, MismatchKind.CHAIN_BREAK), (d.id, MismatchKind.BALANCE)}


async def test_a_user_without_rows_must_have_a_zero_balance() -> None:
    c = build_credits_world()
    user, _ = await c.user("a@example.com")
    c.w.store.users[user.id] = msgspec.structs.replace(c.w.store.users[user.id], subscription_allowance=Decimal(1))
    report = await c.verify()
    assert [(m.user_id, m.kind) for m in report.mismatches] == [(user.id, MismatchKind.BALANCE)]


def test_grant_window_is_a_day() -> None:
    from domain.credits import GRANT_WINDOW
    assert timedelta(hours=24) == GRANT_WINDOW
