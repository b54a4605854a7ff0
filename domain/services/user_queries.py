"""Read-side use cases of the admin user directory (#1609, #1611, #1612)."""

from __future__ import annotations

import msgspec

from domain import not_found
from domain.accounts import User
from domain.api_keys import ApiKey
from domain.audit import AuditEvent
from domain.errors import InvalidInput
from domain.ledger import CreditTransaction
from ports.uow import UnitOfWorkFactory


class UserPage(msgspec.Struct, frozen=True, kw_only=True):
    users: list[User]
    total: int
    limit: int
    offset: int


class UserDetails(msgspec.Struct, frozen=True, kw_only=True):
    user: User
    api_keys: list[ApiKey]
    recent_transactions: list[CreditTransaction]
    recent_activity: list[AuditEvent]


class CountUsers:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self) -> int:
        async with self._uow() as uow:
            return await uow.users.count()


class ListUsers:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, *, limit: int = 100, offset: int = 0, email: str | None = None,
                       is_active: bool | None = None) -> UserPage:
        if not 1 <= limit <= 10_000:
            raise InvalidInput("limit must be between 1 and 10000", field="limit")
        if offset < 0:
            raise InvalidInput("offset must be >= 0", field="offset")
        async with self._uow() as uow:
            total = await uow.users.count(email=email, is_active=is_active)
            rows = await uow.users.list(limit=limit, offset=offset, email=email, is_active=is_active)
        return UserPage(users=rows, total=total, limit=limit, offset=offset)


class ShowUser:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, user_id: int) -> UserDetails:
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise not_found.user()
            keys = await uow.api_keys.list_for_user(user_id)
            recent = await uow.ledger.list_for_user(user_id, limit=10, offset=0)
            activity = await uow.audit.recent(user_id=user_id, limit=10)
        return UserDetails(user=user, api_keys=keys, recent_transactions=recent, recent_activity=activity)
