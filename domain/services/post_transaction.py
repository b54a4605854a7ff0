"""PostTransaction: the one way a balance changes. Lock the user row, apply the change, append the
ledger row, in the caller's unit of work, so the balance and its explanation commit together. The
first money of a converting kind turns an open trial into an active account in the same transaction."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from domain import not_found
from domain.accounts import SubscriptionStatus
from domain.ledger import CONVERTING_KINDS, Balances, CreditTransaction, TransactionType, apply
from domain.money import usd
from ports.uow import UnitOfWork


async def post_transaction(uow: UnitOfWork, *, user_id: int, amount: Decimal, kind: TransactionType, now: datetime,
                           description: str = "", request_id: str | None = None, created_by: str | None = None,
                           metadata: dict[str, Any] | None = None) -> CreditTransaction:
    """Raises NotFound for an unknown user and Conflict (code duplicate_request) for a request_id
    already in the ledger: the caller's transaction then rolls back and nothing changes."""
    user = await uow.users.get_for_update(user_id)
    if user is None:
        raise not_found.user(user_id)
    amount = usd(amount)
    before = Balances(subscription_allowance=user.subscription_allowance, purchased_credits=user.purchased_credits)
    after = apply(before, amount, kind=kind)
    row = await uow.ledger.append(CreditTransaction(
        user_id=user_id, amount=amount, transaction_type=kind, balance_before=before.total,
        balance_after=after.total, description=description, request_id=request_id, created_by=created_by,
        metadata=metadata or {}, created_at=now,
    ))
    await uow.users.set_balances(user_id, subscription_allowance=after.subscription_allowance,
                                 purchased_credits=after.purchased_credits, now=now)
    if amount > 0 and kind in CONVERTING_KINDS and user.subscription_status == SubscriptionStatus.TRIAL.value:
        await uow.users.convert_trial(user_id, now=now)  # the trial converts with the money that ends it
    return row
