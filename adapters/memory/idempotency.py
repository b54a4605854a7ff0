"""Memory twin of the idempotency keys."""

from __future__ import annotations

from typing import Any

import msgspec

from adapters.memory.store import MemoryStore
from domain.errors import Conflict
from domain.idempotency import IdempotencyRecord


class MemoryIdempotencyStore:
    def __init__(self, store: MemoryStore) -> None:
        self._s = store

    async def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        return self._s.idempotency.get((scope, key))

    async def claim(self, record: IdempotencyRecord) -> None:
        if (record.scope, record.key) in self._s.idempotency:
            raise Conflict("Idempotency-Key already used", code="idempotency_key_in_use")
        self._s.idempotency = {**self._s.idempotency, (record.scope, record.key): record}

    async def complete(self, scope: str, key: str, *, status: int, body: Any) -> None:
        record = self._s.idempotency[(scope, key)]
        self._s.idempotency = {**self._s.idempotency,
                               (scope, key): msgspec.structs.replace(record, status=status, body=body)}
