"""Properties of the ledger: no sequence of grants, charges, debits, refunds or replayed settlements
makes the sum of a user's rows differ from their balance (memory twins, random sequences)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.credits import CreditOperationRefused
from domain.errors import Conflict
from domain.ledger import Balances, TransactionType, apply
from domain.ledger_check import LedgerReport, check_user
from domain.requests import RequestRecord
from domain.services.post_transaction import post_transaction
from tests.unit.credits_world import CreditsWorld, build_credits_world

amounts = st.decimals(min_value=Decimal("0.0000000001"), max_value=Decimal(500), places=10, allow_nan=False,
                      allow_infinity=False)
balances = st.builds(Balances, subscription_allowance=st.decimals(min_value=0, max_value=10**6, places=10),
                     purchased_credits=st.decimals(min_value=-(10**6), max_value=10**6, places=10))


@given(balances, st.decimals(min_value=-(10**6), max_value=10**6, places=10))
def test_apply_changes_the_total_by_exactly_the_amount(before: Balances, amount: Decimal) -> None:
    after = apply(before, amount)
    assert after.total == before.total + amount
    assert after.subscription_allowance >= 0
    if amount >= 0:
        assert after.subscription_allowance == before.subscription_allowance  # credits go to purchased
    elif -amount <= before.subscription_allowance:
        assert after.purchased_credits == before.purchased_credits  # the allowance is spent first
    else:
        assert after.subscription_allowance == 0


OPS = st.lists(st.tuples(st.sampled_from(["grant", "charge", "debit", "refund", "replay", "bulk"]),
                         st.integers(min_value=0, max_value=2), amounts), min_size=1, max_size=30)


async def _run(ops: list[tuple[str, int, Decimal]]) -> tuple[CreditsWorld, LedgerReport]:
    c = build_credits_world(max_grant="500", daily_limit="100000")
    admin = await c.admin()
    users = [(await c.user(f"u{i}@example.com"))[0].id for i in range(3)]
    settled: list[tuple[int, str, Decimal]] = []
    for n, (op, who, amount) in enumerate(ops):
        user_id = users[who]
        try:
            if op == "grant":
                await c.add(admin, user_id=user_id, amount=amount, reason="property grant")
            elif op == "bulk":
                await c.bulk(admin, user_ids=users[:who + 1], amount=amount, reason="property bulk")
            elif op == "debit":
                await c.adjust(admin, user_id=user_id, amount=-amount, reason="property debit")
            elif op == "refund":
                await c.refund(admin, user_id=user_id, amount=amount)
            elif op == "charge":
                request_id = f"req-{n}"
                async with c.w.uow() as uow:
                    await post_transaction(uow, user_id=user_id, amount=-amount, kind=TransactionType.API_USAGE,
                                           now=c.w.clock.now(), request_id=request_id)
                    await uow.commit()
                c.w.store.requests[request_id] = RequestRecord(  # a charge always has its request row
                    request_id=request_id, created_at=c.w.clock.now(), model="acme/chat", status="completed",
                    user_id=user_id, cost_usd=amount)
                settled.append((user_id, request_id, amount))
            elif op == "replay" and settled:
                user_id, request_id, amount = settled[-1]
                async with c.w.uow() as uow:
                    await post_transaction(uow, user_id=user_id, amount=-amount, kind=TransactionType.API_USAGE,
                                           now=c.w.clock.now(), request_id=request_id)
                    await uow.commit()
                raise AssertionError("a replayed settlement was recorded twice")
        except (CreditOperationRefused, Conflict):
            pass  # refused (a debit below zero) or a replay: nothing may have changed
        for uid in users:
            async with c.w.uow() as uow:
                assert await uow.ledger.sum_for_user(uid) == c.balance_of(uid)
                assert check_user(uid, await uow.ledger.history(uid), Balances(
                    subscription_allowance=c.w.store.users[uid].subscription_allowance,
                    purchased_credits=c.w.store.users[uid].purchased_credits)) == []
        c.w.clock.advance(1)
    return c, await c.verify()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_no_sequence_of_credit_operations_breaks_sum_of_rows_equals_balance(
        ops: list[tuple[str, int, Decimal]]) -> None:
    c, report = asyncio.run(_run(ops))
    assert report.ok, report.mismatches
    assert report.rows_checked == len(c.w.store.ledger)
    debits_ok = all(u.balance >= 0 or any(r.transaction_type is TransactionType.API_USAGE and r.user_id == u.id
                                          for r in c.w.store.ledger) for u in c.w.store.users.values())
    assert debits_ok  # only usage may overdraw (an upstream that ignored max_tokens); admin debits never do
