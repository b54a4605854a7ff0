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
