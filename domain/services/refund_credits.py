"""RefundCredits (#1732: POST /credits/refund): a refund row, outside the grant limits. When it names
the transaction it reverses, that transaction must exist and belong to the same user."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain import not_found
from domain.accounts import User
from domain.credits import CreditChange, CreditOperationRefused, amount_of, metadata_of, reason_of
from domain.idempotency import Once
from domain.ledger import TransactionType
from domain.services.balance_changed import BalanceChanged
from domain.services.credit_ops import admin_metadata, lock_users, post_change
from domain.services.idempotent_write import IdempotentWrite
from ports.clock import Clock
from ports.uow import UnitOfWork


class RefundCredits:
    def __init__(self, write: IdempotentWrite, clock: Clock, changed: BalanceChanged) -> None:
        self._write = write
        self._clock = clock
        self._changed = changed

    async def __call__(self, admin: User, *, user_id: int, amount: Decimal, reason: str = "Refund",
                       original_transaction_id: int | None = None, metadata: dict[str, Any] | None = None,
                       idempotency_key: str | None = None) -> Once[CreditChange]:
        amount = amount_of(amount)
        reason = reason_of(reason, minimum=1)
        extra = metadata_of(metadata)

        async def write(uow: UnitOfWork) -> CreditChange:
            now = self._clock.now()
            user = (await lock_users(uow, [user_id])).get(user_id)
            if user is None:
                raise not_found.user(user_id)
            if original_transaction_id is not None:
                original = await uow.ledger.get(original_transaction_id)
                if original is None:
                    raise not_found.transaction(original_transaction_id)
                if original.user_id != user_id:
                    raise CreditOperationRefused(
                        f"Transaction {original_transaction_id} does not belong to user {user_id}")
            meta = admin_metadata(admin, reason, {**extra, "original_transaction_id": original_transaction_id})
            return await post_change(uow, user, user_id=user_id, amount=amount, kind=TransactionType.REFUND, now=now,
                                     description=f"Refund: {reason}", reason=reason, admin=admin, metadata=meta)

        done = await self._write(scope=f"credits.refund:{admin.id}", key=idempotency_key,
                                 request={"user_id": user_id, "amount": amount, "reason": reason,
                                          "original_transaction_id": original_transaction_id, "metadata": extra},
                                 result_type=CreditChange, write=write)
        if not done.replayed:
            await self._changed([user_id])
        return done
