"""The request log (chat_completion_requests)."""

from __future__ import annotations

from typing import Protocol

from domain.requests import RequestRecord


class RequestLog(Protocol):
    async def record(self, record: RequestRecord) -> None:
        """Accept one record; a write-behind implementation persists it within its flush interval."""
        ...

    async def flush(self) -> None:
        """Persist whatever is buffered (called on shutdown)."""
        ...

    async def get(self, request_id: str) -> RequestRecord | None: ...


class RequestLogStore(Protocol):
    """Durable storage of request records, written in batches by the write-behind."""

    async def add_many(self, records: list[RequestRecord]) -> None:
        """Insert all; a request_id already stored is skipped (replays are harmless)."""
        ...

    async def get(self, request_id: str) -> RequestRecord | None: ...
