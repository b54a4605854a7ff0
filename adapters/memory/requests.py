"""Memory twin of the request log store (and a direct, unbuffered RequestLog)."""

from __future__ import annotations

from adapters.memory.store import MemoryStore
from domain.requests import RequestRecord


class MemoryRequestLogStore:
    def __init__(self, store: MemoryStore | None = None) -> None:
        """With a store: its `requests`, so the memory ledger's usage_gaps sees these rows."""
        self.records: dict[str, RequestRecord] = store.requests if store is not None else {}

    async def add_many(self, records: list[RequestRecord]) -> None:
        for r in records:
            self.records.setdefault(r.request_id, r)

    async def get(self, request_id: str) -> RequestRecord | None:
        return self.records.get(request_id)

    async def record(self, record: RequestRecord) -> None:
        await self.add_many([record])

    async def flush(self) -> None:
        return None
