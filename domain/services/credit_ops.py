"""Steps every admin credit write shares: lock the users involved, enforce the grant limits under that
lock, post the change through the ledger, and describe it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain import not_found
from domain.accounts import User
from domain.credits import GRANT_WINDOW, CreditChange, GrantPolicy, admin_actor
from domain.ledger import TransactionType
from domain.services.post_transaction import post_transaction
from ports.uow import UnitOfWork


async def lock_users(uow: UnitOfWork, user_ids: Iterable[int]) -> dict[int, User]:
    """Lock every row in id order (two admins crediting each other cannot deadlock); absent ids are skipped."""
    locked = {}
    for user_id in sorted(set(user_ids)):
        user = await uow.users.get_for_update(user_id)
        if user is not None:
            locked[user_id] = user
    return locked


async def grant_gate(uow: UnitOfWork, policy: GrantPolicy, admin: User, *, per_user: Decimal, count: int,
                     targets: list[int], now: datetime) -> dict[int, User]:
    """The per-grant cap, then, under the admin's row lock, the rolling 24-hour total of `count` grants
    of `per_user`: checked and granted in one transaction, so two concurrent grants near the limit cannot
    both pass. Returns the target users that exist, locked."""
    policy.check_cap(per_user)
    locked = await lock_users(uow, [admin.id, *targets])
    granted = await uow.ledger.granted_since(admin_actor(admin.id), now - GRANT_WINDOW)
    policy.check_daily(granted, per_user * count)
    return {uid: user for uid, user in locked.items() if uid in targets}


def admin_metadata(admin: User, reason: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {**(extra or {}), "reason": reason, "admin_user_id": admin.id, "admin_username": admin.username}


async def post_change(uow: UnitOfWork, user: User | None, *, user_id: int, amount: Decimal, kind: TransactionType,
                      now: datetime, description: str, reason: str, admin: User,
                      metadata: dict[str, Any]) -> CreditChange:
    if user is None:
        raise not_found.user(user_id)
    row = await post_transaction(uow, user_id=user.id, amount=amount, kind=kind, now=now, description=description,
                                 created_by=admin_actor(admin.id), metadata=metadata)
    return CreditChange(user_id=user.id, username=user.username, amount=amount, previous_balance=row.balance_before,
                        new_balance=row.balance_after, transaction_id=row.id, reason=reason, timestamp=now)
