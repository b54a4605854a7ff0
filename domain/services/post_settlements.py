"""PostSettlements: write a batch of charges to the ledger in one transaction.

Per user: lock the row once, chain every charge's balance_before/after through domain.ledger.apply,
insert all the rows in one statement and write the balances once, so a batch of N charges costs a
few statements instead of 3N. Every row and its balance change commit together or not at all.
Request ids already in the ledger are skipped, so a batch retried after a lost commit
acknowledgement, or a replayed settlement, never charges twice. Users are locked in id order so
concurrent batches of several processes cannot deadlock."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from domain import not_found
from domain.ledger import Balances, CreditTransaction, TransactionType, apply
from domain.money import usd
from domain.settlements import PendingCharge
from ports.uow import UnitOfWork, UnitOfWorkFactory


class PostSettlements:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, charges: list[PendingCharge]) -> int:
        """Returns how many charges were newly written."""
        if not charges:
            return 0
        written = 0
        async with self._uow() as uow:
            seen = await uow.ledger.recorded_requests([c.request_id for c in charges])
            by_user: defaultdict[int, list[PendingCharge]] = defaultdict(list)
            for charge in charges:
                if charge.request_id not in seen:
                    seen.add(charge.request_id)
                    by_user[charge.user_id].append(charge)
            for user_id in sorted(by_user):
                written += await _post_user(uow, user_id, by_user[user_id])
            await uow.commit()
        return written


async def _post_user(uow: UnitOfWork, user_id: int, charges: list[PendingCharge]) -> int:
    user = await uow.users.get_for_update(user_id)
    if user is None:
        raise not_found.user(user_id)
    balances = Balances(subscription_allowance=user.subscription_allowance, purchased_credits=user.purchased_credits)
    rows: list[CreditTransaction] = []
    last: datetime | None = None
    for charge in charges:
        amount = -usd(charge.amount)
        after = apply(balances, amount)
        rows.append(CreditTransaction(
            user_id=user_id, amount=amount, transaction_type=TransactionType.API_USAGE,
            balance_before=balances.total, balance_after=after.total, description=charge.description,
            request_id=charge.request_id, created_by=charge.created_by, metadata=charge.metadata,
            created_at=charge.created_at))
        balances, last = after, charge.created_at
    await uow.ledger.append_many(rows)
    assert last is not None
    await uow.users.set_balances(user_id, subscription_allowance=balances.subscription_allowance,
                                 purchased_credits=balances.purchased_credits, now=last)
    return len(rows)
