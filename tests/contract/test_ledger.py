"""The append-only ledger behaves the same on every adapter."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.accounts import NewUser
from domain.errors import Conflict
from domain.ledger import CreditTransaction, TransactionType
from domain.ledger_check import MismatchKind
from domain.requests import RequestRecord
from ports.uow import UnitOfWorkFactory
from tests.contract.conftest import Backend

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


async def new_user(uow: UnitOfWorkFactory) -> int:
    async with uow() as u:
        user = await u.users.add(NewUser(
            email=f"ledger-{uuid.uuid4().hex[:12]}@example.com", username="l_" + uuid.uuid4().hex[:12]), now=T0)
        await u.commit()
    return user.id


def row(user_id: int, amount: str, *, at: datetime = T0, request_id: str | None = None,
        kind: TransactionType = TransactionType.API_USAGE, **kw: object) -> CreditTransaction:
    return CreditTransaction(user_id=user_id, amount=Decimal(amount), transaction_type=kind,
                             balance_before=Decimal(0), balance_after=Decimal(amount), request_id=request_id,
                             created_at=at, **kw)  # type: ignore[arg-type]


async def append(uow: UnitOfWorkFactory, *rows: CreditTransaction) -> list[CreditTransaction]:
    async with uow() as u:
        stored = [await u.ledger.append(r) for r in rows]
        await u.commit()
    return stored


async def test_an_appended_row_reads_back_field_for_field_with_an_id(uow_factory: UnitOfWorkFactory) -> None:
    user_id = await new_user(uow_factory)
    original = CreditTransaction(
        user_id=user_id, amount=Decimal("-0.0000000001"), transaction_type=TransactionType.API_USAGE,
        balance_before=Decimal("12345678901234567890.0123456789"),
        balance_after=Decimal("12345678901234567890.0123456788"), description="gpt-4o: 12 in, 3 out",
        request_id=f"req-{uuid.uuid4().hex}", created_by="system",
        metadata={"model": "openai/gpt-4o", "tokens": {"in": 12, "out": 3}, "cached": False}, created_at=T0,
    )
    [stored] = await append(uow_factory, original)
    assert stored.id is not None and stored.id > 0
    async with uow_factory() as u:
        [read] = await u.ledger.list_for_user(user_id, limit=10, offset=0)
    assert read == stored
    assert read.amount == Decimal("-0.0000000001") and isinstance(read.amount, Decimal)
    assert read.balance_before == Decimal("12345678901234567890.0123456789")
    assert read.balance_after == Decimal("12345678901234567890.0123456788")
    assert (read.transaction_type, read.description, read.request_id, read.created_by, read.metadata) == (
        original.transaction_type, original.description, original.request_id, "system", original.metadata)
    assert read.created_at == T0


async def test_a_request_id_is_recorded_once_and_a_replay_is_a_duplicate_request_conflict(
        uow_factory: UnitOfWorkFactory) -> None:
    user_id = await new_user(uow_factory)
    request_id = f"req-{uuid.uuid4().hex}"
    await append(uow_factory, row(user_id, "-1.5", request_id=request_id))
    with pytest.raises(Conflict) as caught:
        await append(uow_factory, row(user_id, "-1.5", request_id=request_id))
    assert caught.value.code == "duplicate_request"
    async with uow_factory() as u:
        assert len(await u.ledger.list_for_user(user_id, limit=10, offset=0)) == 1
        assert await u.ledger.sum_for_user(user_id) == Decimal("-1.5")


async def test_rows_without_a_request_id_may_repeat(uow_factory: UnitOfWorkFactory) -> None:
    user_id = await new_user(uow_factory)
    await append(uow_factory, row(user_id, "1"), row(user_id, "1"), row(user_id, "1"))
    async with uow_factory() as u:
        assert len(await u.ledger.list_for_user(user_id, limit=10, offset=0)) == 3


async def test_rows_list_newest_first_and_page(uow_factory: UnitOfWorkFactory) -> None:
    user_id = await new_user(uow_factory)
    await append(uow_factory, *(row(user_id, str(i), at=T0 + timedelta(minutes=i), description=f"r{i}")
                                for i in (2, 0, 4, 1, 3)))
    async with uow_factory() as u:
        assert [r.description for r in await u.ledger.list_for_user(user_id, limit=10, offset=0)] == [
            "r4", "r3", "r2", "r1", "r0"]
        assert [r.description for r in await u.ledger.list_for_user(user_id, limit=2, offset=1)] == ["r3", "r2"]
        assert await u.ledger.list_for_user(user_id, limit=10, offset=5) == []


async def test_rows_at_the_same_instant_list_the_latest_appended_first(uow_factory: UnitOfWorkFactory) -> None:
    user_id = await new_user(uow_factory)
    stored = await append(uow_factory, row(user_id, "1"), row(user_id, "2"), row(user_id, "3"))
    async with uow_factory() as u:
        assert [r.id for r in await u.ledger.list_for_user(user_id, limit=10, offset=0)] == [
            r.id for r in reversed(stored)]


async def test_the_sum_is_exact_and_counts_only_that_users_rows(uow_factory: UnitOfWorkFactory) -> None:
    mine, theirs = await new_user(uow_factory), await new_user(uow_factory)
    amounts = ["0.1", "0.2", "0.0000000001", "-0.3", "12345678901234567890.0123456789"]
    await append(uow_factory, *(row(mine, a) for a in amounts), row(theirs, "1000"))
    async with uow_factory() as u:
        total = await u.ledger.sum_for_user(mine)
        assert total == Decimal("12345678901234567890.0123456790")
        assert isinstance(total, Decimal)
        assert await u.ledger.sum_for_user(theirs) == Decimal(1000)
        assert await u.ledger.sum_for_user(987_654_321) == 0
        assert [r.user_id for r in await u.ledger.list_for_user(theirs, limit=10, offset=0)] == [theirs]


async def test_an_uncommitted_row_is_rolled_back(uow_factory: UnitOfWorkFactory) -> None:
    user_id = await new_user(uow_factory)
    request_id = f"req-{uuid.uuid4().hex}"
    async with uow_factory() as u:
        await u.ledger.append(row(user_id, "5", request_id=request_id))
    async with uow_factory() as u:
        assert await u.ledger.list_for_user(user_id, limit=10, offset=0) == []
    await append(uow_factory, row(user_id, "5", request_id=request_id))  # the request id is free again


async def test_a_balance_change_and_its_row_commit_together_or_not_at_all(uow_factory: UnitOfWorkFactory) -> None:
    user_id = await new_user(uow_factory)
    request_id = f"req-{uuid.uuid4().hex}"
    await append(uow_factory, row(user_id, "-1", request_id=request_id))
    with pytest.raises(Conflict):
        async with uow_factory() as u:
            await u.users.set_balances(user_id, subscription_allowance=Decimal(0), purchased_credits=Decimal(99),
                                       now=T0)
            await u.ledger.append(row(user_id, "-1", request_id=request_id))
            await u.commit()
    async with uow_factory() as u:
        user = await u.users.get(user_id)
    assert user is not None and user.purchased_credits == 0


async def test_usage_gaps_name_a_charged_request_without_its_row_and_a_row_without_its_request(
        backend: Backend) -> None:
    """The completeness half of `ledger verify`: rows that were never written (or deleted by hand)."""
    user_id = await new_user(backend.uow)
    ids = {name: f"gap-{name}-{uuid.uuid4().hex[:10]}" for name in
           ("both", "uncharged", "unlogged", "failed", "free", "anonymous")}
    await append(backend.uow, row(user_id, "-0.25", request_id=ids["both"]),
                 row(user_id, "-0.5", request_id=ids["unlogged"]))
    cost = Decimal("0.0000123456")
    await backend.requests.add_many([
        request(ids["both"], user_id, cost=Decimal("0.25")), request(ids["uncharged"], user_id, cost=cost),
        request(ids["failed"], user_id, cost=cost, status="failed"),  # failed: nothing to charge
        request(ids["free"], user_id, cost=Decimal(0)),  # a free answer needs no usage row
        request(ids["anonymous"], None, cost=cost),  # an anonymous request has no ledger
    ])
    async with backend.uow() as u:
        gaps = await u.ledger.usage_gaps(list(ids.values()))
        everywhere = await u.ledger.usage_gaps()
    assert [(g.kind, g.request_id, g.user_id, g.amount) for g in gaps] == sorted([
        (MismatchKind.UNCHARGED_REQUEST, ids["uncharged"], user_id, cost),
        (MismatchKind.UNLOGGED_USAGE, ids["unlogged"], user_id, Decimal("-0.5")),
    ], key=lambda g: g[1])
    assert set(gaps) <= set(everywhere)
    assert "has no usage ledger row" in next(g for g in gaps if g.request_id == ids["uncharged"]).mismatch().detail


def request(request_id: str, user_id: int | None, *, cost: Decimal, status: str = "completed") -> RequestRecord:
    return RequestRecord(request_id=request_id, created_at=T0, model="acme/chat-1", status=status,
                         user_id=user_id, api_key_id=None, provider="alpha", input_tokens=10, output_tokens=20,
                         processing_time_ms=35, cost_usd=cost)
