"""Memory unit of work: serialised, and rolled back by restoring a snapshot."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from adapters.memory.accounts import MemoryApiKeyRepository, MemoryResetTokenRepository, MemoryUserRepository
from adapters.memory.audit import MemoryAuditLog
from adapters.memory.coupons import MemoryCouponRepository
from adapters.memory.idempotency import MemoryIdempotencyStore
from adapters.memory.ledger import MemoryLedgerRepository
from adapters.memory.store import MemoryStore


class MemoryUnitOfWork:
    def __init__(self, store: MemoryStore) -> None:
        self._s = store
        self._snapshot: dict[str, Any] | None = None
        self.users = MemoryUserRepository(store)
        self.api_keys = MemoryApiKeyRepository(store)
        self.ledger = MemoryLedgerRepository(store)
        self.audit = MemoryAuditLog(store)
        self.coupons = MemoryCouponRepository(store)
        self.idempotency = MemoryIdempotencyStore(store)
        self.reset_tokens = MemoryResetTokenRepository(store)

    async def __aenter__(self) -> MemoryUnitOfWork:
        await self._s.lock.acquire()
        self._snapshot = self._s.snapshot()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._snapshot is not None:
            self._s.restore(self._snapshot)
        self._snapshot = None
        self._s.lock.release()

    async def commit(self) -> None:
        self._snapshot = self._s.snapshot()


class MemoryUnitOfWorkFactory:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def __call__(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.store)
