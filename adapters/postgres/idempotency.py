"""Idempotency keys in SQL: the unique (scope, key) index makes a concurrent claim wait, then fail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres.tables import idempotency_keys as ik
from domain.errors import Conflict
from domain.idempotency import IdempotencyRecord


class PostgresIdempotencyStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        row = (await self._conn.execute(
            select(ik).where(ik.c.scope == scope, ik.c.key == key))).mappings().first()
        if row is None:
            return None
        return IdempotencyRecord(scope=row["scope"], key=row["key"], fingerprint=row["fingerprint"],
                                 status=row["status"], body=row["body"], created_at=row["created_at"])

    async def claim(self, record: IdempotencyRecord) -> None:
        try:
            await self._conn.execute(insert(ik).values(
                scope=record.scope, key=record.key, fingerprint=record.fingerprint, status=record.status,
                body=record.body, created_at=record.created_at))
        except IntegrityError as exc:
            raise Conflict("Idempotency-Key already used", code="idempotency_key_in_use") from exc

    async def complete(self, scope: str, key: str, *, status: int, body: Any) -> None:
        await self._conn.execute(update(ik).where(ik.c.scope == scope, ik.c.key == key)
                                 .values(status=status, body=body))
