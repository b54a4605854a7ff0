"""BulkAddCredits (#1731: POST /credits/bulk-add): one amount to up to 100 users, in one transaction.
The cap applies to the amount, the daily limit to amount x distinct users; an unknown user is reported
as failed and the others are still credited."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.accounts import User
from domain.credits import (
    MAX_BULK_USERS,
    BulkGrant,
    BulkOutcome,
    GrantPolicy,
    amount_of,
    metadata_of,
    reason_of,
    text_of,
)
from domain.errors import InvalidInput, NotFound
from domain.idempotency import Once
from domain.ledger import TransactionType
from domain.services.balance_changed import BalanceChanged
from domain.services.credit_ops import admin_metadata, grant_gate, post_change
from domain.services.idempotent_write import IdempotentWrite
from ports.clock import Clock
from ports.uow import UnitOfWork


class BulkAddCredits:
    def __init__(self, write: IdempotentWrite, clock: Clock, policy: GrantPolicy, changed: BalanceChanged) -> None:
        self._write = write
        self._clock = clock
        self._policy = policy
        self._changed = changed

    async def __call__(self, admin: User, *, user_ids: list[int], amount: Decimal, reason: str,
                       description: str = "Bulk credit addition", metadata: dict[str, Any] | None = None,
                       idempotency_key: str | None = None) -> Once[BulkGrant]:
        if not 1 <= len(user_ids) <= MAX_BULK_USERS:
            raise InvalidInput(f"must list 1 to {MAX_BULK_USERS} user ids", field="user_ids")
        unique = list(dict.fromkeys(user_ids))
        amount = amount_of(amount)
        reason = reason_of(reason)
        description = text_of(description, field="description")
        extra = metadata_of(metadata)

        async def write(uow: UnitOfWork) -> BulkGrant:
            now = self._clock.now()
            locked = await grant_gate(uow, self._policy, admin, per_user=amount, count=len(unique), targets=unique,
                                      now=now)
            meta = admin_metadata(admin, reason, {**extra, "bulk_operation": True, "bulk_user_count": len(unique)})
            outcomes = []
            for user_id in unique:
                try:
                    change = await post_change(uow, locked.get(user_id), user_id=user_id, amount=amount,
                                               kind=TransactionType.ADMIN_CREDIT, now=now, description=description,
                                               reason=reason, admin=admin, metadata=meta)
                except NotFound as exc:
                    outcomes.append(BulkOutcome(user_id=user_id, succeeded=False, error=exc.message))
                    continue
                outcomes.append(BulkOutcome(user_id=user_id, succeeded=True, previous_balance=change.previous_balance,
                                            new_balance=change.new_balance, transaction_id=change.transaction_id))
            return BulkGrant(amount=amount, outcomes=outcomes, timestamp=now)

        done = await self._write(scope=f"credits.bulk_add:{admin.id}", key=idempotency_key,
                                 request={"user_ids": unique, "amount": amount, "reason": reason,
                                          "description": description, "metadata": extra},
                                 result_type=BulkGrant, write=write)
        if not done.replayed:
            await self._changed(o.user_id for o in done.value.outcomes if o.succeeded)
        return done
