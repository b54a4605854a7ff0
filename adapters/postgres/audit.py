"""The audit log in SQL."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres.tables import audit_log
from domain.audit import AuditEvent


class PostgresAuditLog:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def record(self, event: AuditEvent) -> None:
        await self._conn.execute(insert(audit_log).values(
            event_type=event.event_type, user_id=event.user_id, api_key_id=event.api_key_id,
            details=event.details, created_at=event.created_at, request_id=event.request_id))

    async def recorded(self, event_type: str, request_ids: list[str]) -> set[str]:
        if not request_ids:
            return set()
        rows = await self._conn.execute(select(audit_log.c.request_id).where(
            audit_log.c.event_type == event_type, audit_log.c.request_id.in_(request_ids)))
        return {r for r in rows.scalars() if r is not None}

    async def recent(self, *, event_type: str | None = None, user_id: int | None = None,
                     limit: int = 100) -> list[AuditEvent]:
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if event_type is not None:
            query = query.where(audit_log.c.event_type == event_type)
        if user_id is not None:
            query = query.where(audit_log.c.user_id == user_id)
        rows = (await self._conn.execute(query)).mappings().all()
        return [AuditEvent(event_type=r["event_type"], created_at=r["created_at"], user_id=r["user_id"],
                           api_key_id=r["api_key_id"], details=r["details"] or {},
                           request_id=r["request_id"]) for r in rows]
