"""Memory twin of the audit log."""

from __future__ import annotations

from adapters.memory.store import MemoryStore
from domain.audit import AuditEvent


class MemoryAuditLog:
    def __init__(self, store: MemoryStore) -> None:
        self._s = store

    async def record(self, event: AuditEvent) -> None:
        self._s.audit = [*self._s.audit, event]

    async def recorded(self, event_type: str, request_ids: list[str]) -> set[str]:
        wanted = set(request_ids)
        return {e.request_id for e in self._s.audit
                if e.event_type == event_type and e.request_id is not None and e.request_id in wanted}

    async def recent(self, *, event_type: str | None = None, user_id: int | None = None,
                     limit: int = 100) -> list[AuditEvent]:
        rows = [e for e in reversed(self._s.audit) if (event_type is None or e.event_type == event_type)
                and (user_id is None or e.user_id == user_id)]
        return rows[:limit]
