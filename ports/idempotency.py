"""Idempotency keys, stored in the same transaction as the write they guard."""

from __future__ import annotations

from typing import Any, Protocol

from domain.idempotency import IdempotencyRecord


class IdempotencyStore(Protocol):
    async def get(self, scope: str, key: str) -> IdempotencyRecord | None: ...

    async def claim(self, record: IdempotencyRecord) -> None:
        """Insert the key. Raises Conflict (code idempotency_key_in_use) when (scope, key) exists or
        is being claimed by a concurrent transaction (which is waited for first)."""
        ...

    async def complete(self, scope: str, key: str, *, status: int, body: Any) -> None:
        """Store the result of the write the claimed key guards."""
        ...
