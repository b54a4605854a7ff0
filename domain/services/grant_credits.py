"""GrantCredits (#1600: POST /admin/add_credits, target named by API key) and AddCredits (#1729:
POST /credits/add, target named by id): admin_credit rows under the grant cap and daily limit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain import not_found
from domain.accounts import User
from domain.api_keys import hash_key, looks_like_key
from domain.credits import CreditChange, GrantPolicy, amount_of, metadata_of, reason_of, text_of
from domain.idempotency import Once
from domain.ledger import TransactionType
from domain.services.balance_changed import BalanceChanged
from domain.services.credit_ops import admin_metadata, grant_gate, post_change
from domain.services.idempotent_write import IdempotentWrite
from ports.accounts import KeyDirectory
from ports.clock import Clock
from ports.uow import UnitOfWork


class GrantCredits:
    def __init__(self, write: IdempotentWrite, clock: Clock, directory: KeyDirectory, key_secret: bytes,
                 policy: GrantPolicy, changed: BalanceChanged) -> None:
        self._write = write
        self._clock = clock
        self._directory = directory
        self._secret = key_secret
        self._policy = policy
        self._changed = changed

    async def __call__(self, admin: User, *, api_key: str, credits: Decimal, reason: str,
                       idempotency_key: str | None = None) -> Once[CreditChange]:
        amount = amount_of(credits, field="credits")
        reason = reason_of(reason)
        key_hash = hash_key(self._secret, api_key)  # the plaintext is never stored, logged or fingerprinted
        # Looked up before the unit of work opens: on SQLite a second connection could not read while
        # this transaction holds the write lock.
        principal = await self._directory.find(key_hash) if looks_like_key(api_key) else None
        target = principal.user.id if principal is not None else None

        async def write(uow: UnitOfWork) -> CreditChange:
            now = self._clock.now()
            locked = await grant_gate(uow, self._policy, admin, per_user=amount, count=1,
                                      targets=[target] if target is not None else [], now=now)
            if target is None or target not in locked:
                raise not_found.user()
            return await post_change(uow, locked[target], user_id=target, amount=amount,
                                     kind=TransactionType.ADMIN_CREDIT, now=now, description=reason, reason=reason,
                                     admin=admin, metadata=admin_metadata(admin, reason))

        done = await self._write(scope=f"admin.add_credits:{admin.id}", key=idempotency_key,
                                 request={"key_hash": key_hash, "credits": amount, "reason": reason},
                                 result_type=CreditChange, write=write)
        if not done.replayed:
            await self._changed([done.value.user_id])
        return done


class AddCredits:
    def __init__(self, write: IdempotentWrite, clock: Clock, policy: GrantPolicy, changed: BalanceChanged) -> None:
        self._write = write
        self._clock = clock
        self._policy = policy
        self._changed = changed

    async def __call__(self, admin: User, *, user_id: int, amount: Decimal, reason: str,
                       description: str = "Admin credit addition", metadata: dict[str, Any] | None = None,
                       idempotency_key: str | None = None) -> Once[CreditChange]:
        amount = amount_of(amount)
        reason = reason_of(reason)
        description = text_of(description, field="description")
        extra = metadata_of(metadata)

        async def write(uow: UnitOfWork) -> CreditChange:
            now = self._clock.now()
            locked = await grant_gate(uow, self._policy, admin, per_user=amount, count=1, targets=[user_id],
                                      now=now)
            return await post_change(uow, locked.get(user_id), user_id=user_id, amount=amount,
                                     kind=TransactionType.ADMIN_CREDIT, now=now, description=description,
                                     reason=reason, admin=admin, metadata=admin_metadata(admin, reason, extra))

        done = await self._write(scope=f"credits.add:{admin.id}", key=idempotency_key,
                                 request={"user_id": user_id, "amount": amount, "reason": reason,
                                          "description": description, "metadata": extra},
                                 result_type=CreditChange, write=write)
        if not done.replayed:
            await self._changed([user_id])
        return done
