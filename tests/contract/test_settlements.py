"""Batched settlement posting over memory, SQLite and PostgreSQL: exact chained rows, one balance
write per user, replays skipped."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from domain.accounts import NewUser
from domain.ledger import TransactionType
from domain.services.post_settlements import PostSettlements
from domain.services.post_transaction import post_transaction
from domain.settlements import PendingCharge
from ports.uow import UnitOfWorkFactory
from tests.services import unique_name

NOW = datetime(2026, 6, 1, tzinfo=UTC)


async def make_user(uow_factory: UnitOfWorkFactory, credits: str) -> int:
    async with uow_factory() as uow:
        user = await uow.users.add(NewUser(
            email=unique_name("s") + "@example.com", username="s_" + uuid.uuid4().hex[:12]), now=NOW)
        await post_transaction(uow, user_id=user.id, amount=Decimal(credits), kind=TransactionType.ADMIN_CREDIT,
                               now=NOW)
        await uow.commit()
    return user.id


def charge(user_id: int, request_id: str, amount: str) -> PendingCharge:
    return PendingCharge(user_id=user_id, request_id=request_id, amount=Decimal(amount), created_at=NOW,
                         description="API usage: acme/chat", metadata={"model": "acme/chat"})


async def test_a_batch_chains_each_users_rows_and_balances_exactly(uow_factory: UnitOfWorkFactory) -> None:
    a, b = await make_user(uow_factory, "1"), await make_user(uow_factory, "5")
    rid = unique_name("r")
    post = PostSettlements(uow_factory)
    written = await post([charge(a, rid + "1", "0.0000000001"), charge(b, rid + "2", "0.25"),
                          charge(a, rid + "3", "0.3"), charge(a, rid + "1", "0.0000000001")])  # a replay inside
    assert written == 3
    async with uow_factory() as uow:
        rows = [r for r in reversed(await uow.ledger.list_for_user(a, limit=10, offset=0))]
        user_a, user_b = await uow.users.get(a), await uow.users.get(b)
    assert [(r.amount, r.balance_before, r.balance_after) for r in rows[1:]] == [
        (Decimal("-0.0000000001"), Decimal("1"), Decimal("0.9999999999")),
        (Decimal("-0.3"), Decimal("0.9999999999"), Decimal("0.6999999999"))]
    assert all(r.transaction_type is TransactionType.API_USAGE for r in rows[1:])
    assert user_a is not None and user_a.balance == Decimal("0.6999999999")
    assert user_b is not None and user_b.balance == Decimal("4.75")


async def test_a_batch_retried_after_it_landed_writes_nothing(uow_factory: UnitOfWorkFactory) -> None:
    a = await make_user(uow_factory, "1")
    batch = [charge(a, unique_name("r"), "0.1"), charge(a, unique_name("r"), "0.2")]
    post = PostSettlements(uow_factory)
    assert await post(batch) == 2
    assert await post(batch) == 0
    async with uow_factory() as uow:
        user = await uow.users.get(a)
        assert user is not None and user.balance == Decimal("0.7")
        assert await uow.ledger.sum_for_user(a) == Decimal("0.7")
