"""The append-only credit ledger in SQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres.tables import credit_transactions as ct
from domain.errors import Conflict
from domain.ledger import CreditTransaction, TransactionType
from domain.money import total


def transaction_from_row(row: Any) -> CreditTransaction:
    return CreditTransaction(
        id=row["id"], user_id=row["user_id"], amount=row["amount"],
        transaction_type=TransactionType(row["transaction_type"]), balance_before=row["balance_before"],
        balance_after=row["balance_after"], description=row["description"], request_id=row["request_id"],
        created_by=row["created_by"], metadata=row["metadata"] or {}, created_at=row["created_at"],
    )


class PostgresLedgerRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def append(self, row: CreditTransaction) -> CreditTransaction:
        try:
            result = await self._conn.execute(insert(ct).values(
                user_id=row.user_id, amount=row.amount, transaction_type=row.transaction_type.value,
                description=row.description, balance_before=row.balance_before, balance_after=row.balance_after,
                request_id=row.request_id, created_by=row.created_by, metadata=row.metadata,
                created_at=row.created_at,
            ).returning(ct))
        except IntegrityError as exc:
            raise Conflict(f"request {row.request_id} already recorded", code="duplicate_request") from exc
        return transaction_from_row(result.mappings().one())

    async def list_for_user(self, user_id: int, *, limit: int, offset: int) -> list[CreditTransaction]:
        rows = (await self._conn.execute(select(ct).where(ct.c.user_id == user_id)
                                         .order_by(ct.c.created_at.desc(), ct.c.id.desc())
                                         .limit(limit).offset(offset))).mappings().all()
        return [transaction_from_row(r) for r in rows]

    async def sum_for_user(self, user_id: int) -> Decimal:
        rows = (await self._conn.execute(select(ct.c.amount).where(ct.c.user_id == user_id))).scalars().all()
        # Summed in Python: SQLite stores money as text and would sum it through float.
        return total(rows)
