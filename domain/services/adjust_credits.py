"""AdjustCredits (#1730: POST /credits/adjust): a signed change. A positive one is a grant (cap and
daily limit, admin_credit); a negative one is an admin_debit that may not take the balance below zero."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.accounts import User
from domain.credits import (
    CreditChange,
    CreditOperationRefused,
    GrantPolicy,
    amount_of,
    metadata_of,
    plain,
    reason_of,
    text_of,
)
from domain.idempotency import Once
from domain.ledger import TransactionType
from domain.services.balance_changed import BalanceChanged
from domain.services.credit_ops import admin_metadata, grant_gate, lock_users, post_change
from domain.services.idempotent_write import IdempotentWrite
from ports.clock import Clock
from ports.uow import UnitOfWork


class AdjustCredits:
    def __init__(self, write: IdempotentWrite, clock: Clock, policy: GrantPolicy, changed: BalanceChanged) -> None:
        self._write = write
        self._clock = clock
        self._policy = policy
        self._changed = changed

    async def __call__(self, admin: User, *, user_id: int, amount: Decimal, reason: str,
                       description: str = "Admin credit adjustment", metadata: dict[str, Any] | None = None,
                       idempotency_key: str | None = None) -> Once[CreditChange]:
        amount = amount_of(amount, positive=False)
        reason = reason_of(reason)
        description = text_of(description, field="description")
        extra = metadata_of(metadata)

        async def write(uow: UnitOfWork) -> CreditChange:
            now = self._clock.now()
            if amount > 0:
                locked = await grant_gate(uow, self._policy, admin, per_user=amount, count=1, targets=[user_id],
                                          now=now)
            else:
                locked = await lock_users(uow, [user_id])
            user = locked.get(user_id)
            if user is not None and user.balance + amount < 0:
                raise CreditOperationRefused(
                    f"Adjustment would result in negative balance. Current balance: {plain(user.balance)}, "
                    f"adjustment: {plain(amount)}")
            kind = TransactionType.ADMIN_CREDIT if amount > 0 else TransactionType.ADMIN_DEBIT
            return await post_change(uow, user, user_id=user_id, amount=amount, kind=kind, now=now,
                                     description=description, reason=reason, admin=admin,
                                     metadata=admin_metadata(admin, reason, extra))

        done = await self._write(scope=f"credits.adjust:{admin.id}", key=idempotency_key,
                                 request={"user_id": user_id, "amount": amount, "reason": reason,
                                          "description": description, "metadata": extra},
                                 result_type=CreditChange, write=write)
        if not done.replayed:
            await self._changed([user_id])
        return done
