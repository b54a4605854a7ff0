"""The audit log of security events."""

from __future__ import annotations

from typing import Protocol

from domain.audit import AuditEvent


class AuditLog(Protocol):
    async def record(self, event: AuditEvent) -> None: ...

    async def recorded(self, event_type: str, request_ids: list[str]) -> set[str]:
        """Which of these request ids already have an event of this type (replays to skip)."""
        ...

    async def recent(self, *, event_type: str | None = None, user_id: int | None = None,
                     limit: int = 100) -> list[AuditEvent]:
        """Newest first, optionally one event type and/or one user's events."""
        ...
