"""The SQL unit of work: one connection, one transaction, every repository bound to it."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from adapters.postgres.accounts import (
    PostgresApiKeyRepository,
    PostgresResetTokenRepository,
    PostgresUserRepository,
)
from adapters.postgres.audit import PostgresAuditLog
from adapters.postgres.coupons import PostgresCouponRepository
from adapters.postgres.failures import is_infrastructure_failure, unavailable
from adapters.postgres.idempotency import PostgresIdempotencyStore
from adapters.postgres.ledger import PostgresLedgerRepository


class PostgresUnitOfWork:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None
        self._tx: AsyncTransaction | None = None

    async def __aenter__(self) -> PostgresUnitOfWork:
        try:
            self._conn = await self._engine.connect()
            self._tx = await self._conn.begin()
        except BaseException as exc:
            if self._conn is not None:
                await self._conn.close()
            if is_infrastructure_failure(exc):
                raise unavailable(exc) from exc
            raise
        self.users = PostgresUserRepository(self._conn)
        self.api_keys = PostgresApiKeyRepository(self._conn)
        self.ledger = PostgresLedgerRepository(self._conn)
        self.audit = PostgresAuditLog(self._conn)
        self.coupons = PostgresCouponRepository(self._conn)
        self.idempotency = PostgresIdempotencyStore(self._conn)
        self.reset_tokens = PostgresResetTokenRepository(self._conn)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        assert self._conn is not None
        try:
            if self._tx is not None and self._tx.is_active:
                await self._tx.rollback()
        except Exception:
            pass
        finally:
            await self._conn.close()
            self._conn = self._tx = None
        if exc is not None and is_infrastructure_failure(exc):
            raise unavailable(exc) from exc

    async def commit(self) -> None:
        assert self._tx is not None
        await self._tx.commit()


class PostgresUnitOfWorkFactory:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def __call__(self) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self._engine)
