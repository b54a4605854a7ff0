"""A unit of work: one transaction over every repository, committed or rolled back whole."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from ports.accounts import ApiKeyRepository, ResetTokenRepository, UserRepository
from ports.audit import AuditLog
from ports.coupons import CouponRepository
from ports.idempotency import IdempotencyStore
from ports.ledger import LedgerRepository


class UnitOfWork(Protocol):
    users: UserRepository
    api_keys: ApiKeyRepository
    ledger: LedgerRepository
    audit: AuditLog
    coupons: CouponRepository
    idempotency: IdempotencyStore
    reset_tokens: ResetTokenRepository

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        """Roll back whatever was not committed."""
        ...

    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
