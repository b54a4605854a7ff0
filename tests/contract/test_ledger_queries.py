"""The ledger's read methods and the idempotency keys behave the same on every adapter; the rules in
domain.ledger_queries are the reference the SQL (NUMERIC on PostgreSQL, text money on SQLite) must match."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.accounts import NewUser
from domain.errors import Conflict
from domain.idempotency import IdempotencyRecord
from domain.ledger import CreditTransaction, TransactionType
from domain.ledger_queries import Direction, SortField, TransactionQuery, summarize
from domain.money import total
from ports.uow import UnitOfWorkFactory

T0 = datetime(2026, 3, 1, 23, 30, 0, tzinfo=UTC)
# Amounts that text comparison would misorder (9 > 10, -9 > -10), ties, zero, the tiny and the huge.
AMOUNTS = ["10", "9", "-10", "-9", "0", "9", "0.0000000001", "-0.0000000001", "12345678901.5", "-2.25", "100"]
TYPES = [TransactionType.ADMIN_CREDIT, TransactionType.API_USAGE, TransactionType.ADMIN_DEBIT,
         TransactionType.API_USAGE, TransactionType.BONUS, TransactionType.ADMIN_CREDIT, TransactionType.REFUND,
         TransactionType.API_USAGE, TransactionType.PURCHASE, TransactionType.API_USAGE, TransactionType.ADMIN_CREDIT]


async def new_user(uow: UnitOfWorkFactory) -> int:
    async with uow() as u:
        user = await u.users.add(NewUser(
            email=f"lq-{uuid.uuid4().hex[:12]}@example.com", username="lq_" + uuid.uuid4().hex[:12]), now=T0)
        await u.commit()
    return user.id


async def seed(uow: UnitOfWorkFactory) -> tuple[int, int, list[CreditTransaction]]:
    """Two users' rows spread over three UTC days, appended in order."""
    mine, theirs = await new_user(uow), await new_user(uow)
    stored = []
    async with uow() as u:
        for i, (amount, kind) in enumerate(zip(AMOUNTS, TYPES, strict=True)):
            user_id = theirs if i % 4 == 3 else mine
            stored.append(await u.ledger.append(CreditTransaction(
                user_id=user_id, amount=Decimal(amount), transaction_type=kind, balance_before=Decimal(0),
                balance_after=Decimal(amount), created_by="admin:7" if i % 2 == 0 else "admin:8",
                description=f"row {i}", created_at=T0 + timedelta(hours=7 * i))))
        await u.commit()
    return mine, theirs, stored


QUERIES = [
    {},
    {"sort_by": SortField.AMOUNT},
    {"sort_by": SortField.AMOUNT, "descending": False},
    {"sort_by": SortField.TRANSACTION_TYPE},
    {"sort_by": SortField.TRANSACTION_TYPE, "descending": False},
    {"direction": Direction.CREDIT, "sort_by": SortField.AMOUNT},
    {"direction": Direction.CHARGE},
    {"min_amount": Decimal(9), "max_amount": Decimal(10)},
    {"min_amount": Decimal("0.0000000001"), "sort_by": SortField.AMOUNT, "descending": False},
    {"max_amount": Decimal(0)},
    {"transaction_type": "api_usage"},
    {"transaction_type": "no_such_type"},
    {"since": T0 + timedelta(hours=14), "until": T0 + timedelta(hours=35)},
    {"since": T0 + timedelta(hours=14), "direction": Direction.CREDIT, "sort_by": SortField.AMOUNT},
]


@pytest.mark.parametrize("spec", QUERIES, ids=[str(sorted(q)) for q in QUERIES])
async def test_search_matches_the_reference_order_and_filters(uow_factory: UnitOfWorkFactory,
                                                              spec: dict[str, object]) -> None:
    mine, _, stored = await seed(uow_factory)
    query = TransactionQuery(user_id=mine, **spec)  # type: ignore[arg-type]
    expected = query.run(stored, limit=100, offset=0)
    async with uow_factory() as u:
        found = await u.ledger.search(query, limit=100, offset=0)
        assert [r.id for r in found] == [r.id for r in expected]
        assert found == expected
        assert [r.id for r in await u.ledger.search(query, limit=2, offset=1)] == [r.id for r in expected[1:3]]


async def test_the_summary_matches_the_reference_for_a_user_a_range_and_the_system(
        uow_factory: UnitOfWorkFactory) -> None:
    mine, theirs, stored = await seed(uow_factory)
    since, until = T0 + timedelta(hours=7), T0 + timedelta(hours=50)
    async with uow_factory() as u:
        for user_id in (mine, theirs):
            rows = [r for r in stored if r.user_id == user_id]
            assert await u.ledger.summarize(user_id=user_id) == summarize(rows)
            in_range = [r for r in rows if since <= r.created_at < until]  # type: ignore[operator]
            assert await u.ledger.summarize(user_id=user_id, since=since, until=until) == summarize(in_range)
        everything = []
        after = 0
        while page := await u.ledger.rows_after(after, limit=50):
            everything.extend(page)
            after = page[-1].id  # type: ignore[assignment]
        assert await u.ledger.summarize(detailed=False) == summarize(everything, detailed=False)
        summary = await u.ledger.summarize(user_id=mine)
    assert summary.largest_credit is not None and summary.largest_credit.amount == Decimal("12345678901.5")
    assert summary.largest_charge is not None and summary.largest_charge.amount == Decimal(-10)
    assert [d.day.isoformat() for d in summary.daily] == ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]
    assert summary.by_type["admin_credit"].count == 3
    assert summary.net_change == summary.credits_added - summary.credits_used


async def test_an_empty_range_summarizes_to_zeroes(uow_factory: UnitOfWorkFactory) -> None:
    mine = await new_user(uow_factory)
    async with uow_factory() as u:
        empty = await u.ledger.summarize(user_id=mine)
    assert (empty.total_transactions, empty.credits_added, empty.by_type, empty.daily, empty.largest_credit) == (
        0, 0, {}, [], None)


async def test_granted_since_sums_only_an_admins_positive_admin_credits_in_the_window(
        uow_factory: UnitOfWorkFactory) -> None:
    await seed(uow_factory)
    actor = f"admin:{uuid.uuid4().hex[:8]}"
    user_id = await new_user(uow_factory)
    rows = [("5", TransactionType.ADMIN_CREDIT, actor, T0), ("7.5", TransactionType.ADMIN_CREDIT, actor,
                                                              T0 + timedelta(hours=1)),
            ("-3", TransactionType.ADMIN_CREDIT, actor, T0 + timedelta(hours=1)),
            ("100", TransactionType.REFUND, actor, T0 + timedelta(hours=1)),
            ("100", TransactionType.ADMIN_CREDIT, "admin:someone-else", T0 + timedelta(hours=1)),
            ("9", TransactionType.ADMIN_CREDIT, actor, T0 - timedelta(seconds=1))]
    async with uow_factory() as u:
        for amount, kind, by, at in rows:
            await u.ledger.append(CreditTransaction(user_id=user_id, amount=Decimal(amount), transaction_type=kind,
                                                    balance_before=Decimal(0), balance_after=Decimal(0),
                                                    created_by=by, created_at=at))
        await u.commit()
    async with uow_factory() as u:
        assert await u.ledger.granted_since(actor, T0) == Decimal("12.5")
        assert await u.ledger.granted_since(actor, T0 - timedelta(seconds=1)) == Decimal("21.5")
        assert await u.ledger.granted_since(actor, T0 + timedelta(hours=2)) == 0
        assert await u.ledger.granted_since("admin:nobody", T0) == 0


async def test_rows_history_balances_and_lookup(uow_factory: UnitOfWorkFactory) -> None:
    mine, theirs, stored = await seed(uow_factory)
    async with uow_factory() as u:
        await u.users.set_balances(mine, subscription_allowance=Decimal("1.5"), purchased_credits=Decimal("-0.25"),
                                   now=T0)
        await u.commit()
    async with uow_factory() as u:
        assert [r.id for r in await u.ledger.history(mine)] == [r.id for r in stored if r.user_id == mine]
        first = stored[0].id
        assert first is not None
        after = await u.ledger.rows_after(first - 1, limit=3)
        assert [r.id for r in after] == [r.id for r in stored[:3]]
        assert await u.ledger.get(first) == stored[0]
        assert await u.ledger.get(10**12) is None
        accounts = await u.ledger.user_balances(mine - 1, limit=2)
        assert [a.user_id for a in accounts] == [mine, theirs]
        assert accounts[0].balances.total == Decimal("1.25") and accounts[1].balances.total == 0
        system = await u.ledger.system_balances()
        all_users = await u.users.count()
    assert system.users == all_users and isinstance(system.total, Decimal)


async def test_a_mismatch_of_sum_with_text_money_is_impossible(uow_factory: UnitOfWorkFactory) -> None:
    """0.1 + 0.2 through float is not 0.3: the sums must be exact on every adapter."""
    user_id = await new_user(uow_factory)
    async with uow_factory() as u:
        for amount in ("0.1", "0.2", "0.0000000003"):
            await u.ledger.append(CreditTransaction(user_id=user_id, amount=Decimal(amount),
                                                    transaction_type=TransactionType.ADMIN_CREDIT,
                                                    balance_before=Decimal(0), balance_after=Decimal(0),
                                                    created_by="admin:float", created_at=T0))
        await u.commit()
    async with uow_factory() as u:
        summary = await u.ledger.summarize(user_id=user_id)
        granted = await u.ledger.granted_since("admin:float", T0)
    assert summary.credits_added == granted == total([Decimal("0.3000000003")]) == Decimal("0.3000000003")


async def test_an_idempotency_key_is_claimed_once_completed_and_read_back(uow_factory: UnitOfWorkFactory) -> None:
    scope, key = f"test:{uuid.uuid4().hex[:8]}", "k-1"
    record = IdempotencyRecord(scope=scope, key=key, fingerprint="f" * 64, created_at=T0)
    async with uow_factory() as u:
        await u.idempotency.claim(record)
    async with uow_factory() as u:  # rolled back: the key is free again
        assert await u.idempotency.get(scope, key) is None
        await u.idempotency.claim(record)
        await u.idempotency.complete(scope, key, status=200, body={"amount": "1.5", "nested": {"a": [1, 2]}})
        await u.commit()
    with pytest.raises(Conflict) as taken:
        async with uow_factory() as u:
            await u.idempotency.claim(record)
    assert taken.value.code == "idempotency_key_in_use"
    async with uow_factory() as u:
        stored = await u.idempotency.get(scope, key)
        await u.idempotency.claim(IdempotencyRecord(scope=scope + "-other", key=key, fingerprint="0" * 64,
                                                    created_at=T0))
    assert stored is not None
    assert (stored.status, stored.body, stored.fingerprint, stored.created_at) == (
        200, {"amount": "1.5", "nested": {"a": [1, 2]}}, "f" * 64, T0)
