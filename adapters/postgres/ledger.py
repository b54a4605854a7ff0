"""The append-only credit ledger in SQL."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, and_, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres.tables import chat_completion_requests as ccr
from adapters.postgres.tables import credit_transactions as ct
from adapters.postgres.tables import users
from domain.errors import Conflict
from domain.ledger import Balances, CreditTransaction, TransactionType
from domain.ledger_check import AccountBalances, MismatchKind, UsageGap
from domain.ledger_queries import (
    DayTotals,
    Direction,
    LedgerSummary,
    SortField,
    SystemBalances,
    TransactionQuery,
    TypeTotals,
    summarize,
)
from domain.money import ZERO, total


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

    async def append_many(self, rows: list[CreditTransaction]) -> None:
        if not rows:
            return
        try:
            await self._conn.execute(insert(ct), [{
                "user_id": r.user_id, "amount": r.amount, "transaction_type": r.transaction_type.value,
                "description": r.description, "balance_before": r.balance_before, "balance_after": r.balance_after,
                "request_id": r.request_id, "created_by": r.created_by, "metadata": r.metadata,
                "created_at": r.created_at} for r in rows])
        except IntegrityError as exc:
            raise Conflict("a request in the batch was already recorded", code="duplicate_request") from exc

    async def recorded_requests(self, request_ids: list[str]) -> set[str]:
        if not request_ids:
            return set()
        rows = await self._conn.execute(select(ct.c.request_id).where(ct.c.request_id.in_(request_ids)))
        return {r for r in rows.scalars() if r is not None}

    async def list_for_user(self, user_id: int, *, limit: int, offset: int) -> list[CreditTransaction]:
        rows = (await self._conn.execute(select(ct).where(ct.c.user_id == user_id)
                                         .order_by(ct.c.created_at.desc(), ct.c.id.desc())
                                         .limit(limit).offset(offset))).mappings().all()
        return [transaction_from_row(r) for r in rows]

    async def sum_for_user(self, user_id: int) -> Decimal:
        rows = (await self._conn.execute(select(ct.c.amount).where(ct.c.user_id == user_id))).scalars().all()
        # Summed in Python: SQLite stores money as text and would sum it through float.
        return total(rows)

    # Reads for the credit endpoints and `gatewayz ledger verify`. SQLite keeps money as text, which
    # compares and sums wrongly in SQL: there the rows are selected in SQL and the money math is done in
    # Python by the domain's own rules; PostgreSQL does it all in SQL on NUMERIC.

    @property
    def _text_money(self) -> bool:
        return self._conn.dialect.name == "sqlite"

    async def get(self, transaction_id: int) -> CreditTransaction | None:
        row = (await self._conn.execute(select(ct).where(ct.c.id == transaction_id))).mappings().first()
        return transaction_from_row(row) if row else None

    async def search(self, query: TransactionQuery, *, limit: int, offset: int) -> list[CreditTransaction]:
        uses_money = (query.min_amount is not None or query.max_amount is not None or query.direction is not None
                      or query.sort_by is SortField.AMOUNT)
        if self._text_money and uses_money:
            rows = (await self._conn.execute(select(ct).where(*_range(query)))).mappings().all()
            return query.run((transaction_from_row(r) for r in rows), limit=limit, offset=offset)
        conditions = _range(query)
        if query.min_amount is not None:
            conditions.append(func.abs(ct.c.amount) >= query.min_amount)
        if query.max_amount is not None:
            conditions.append(func.abs(ct.c.amount) <= query.max_amount)
        if query.direction is Direction.CREDIT:
            conditions.append(ct.c.amount > 0)
        elif query.direction is Direction.CHARGE:
            conditions.append(ct.c.amount < 0)
        field: Any = {SortField.CREATED_AT: ct.c.created_at, SortField.AMOUNT: ct.c.amount,
                      SortField.TRANSACTION_TYPE: ct.c.transaction_type.collate("C")
                      if not self._text_money else ct.c.transaction_type}[query.sort_by]
        order = [field.desc(), ct.c.id.desc()] if query.descending else [field.asc(), ct.c.id.asc()]
        rows = (await self._conn.execute(select(ct).where(*conditions).order_by(*order)
                                         .limit(limit).offset(offset))).mappings().all()
        return [transaction_from_row(r) for r in rows]

    async def summarize(self, *, user_id: int | None = None, since: datetime | None = None,
                        until: datetime | None = None, detailed: bool = True) -> LedgerSummary:
        conditions = _range(TransactionQuery(user_id=user_id, since=since, until=until))
        if self._text_money:
            rows = (await self._conn.execute(select(ct).where(*conditions))).mappings().all()
            return summarize((transaction_from_row(r) for r in rows), detailed=detailed)
        sign = func.sign(ct.c.amount).label("sign")
        grouped = (await self._conn.execute(
            select(ct.c.transaction_type, sign, func.count().label("n"), func.sum(ct.c.amount).label("total"))
            .where(*conditions).group_by(ct.c.transaction_type, sign))).mappings().all()
        by_type: dict[str, tuple[int, list[Decimal]]] = {}
        signs: dict[int, tuple[int, list[Decimal]]] = {}
        for g in grouped:
            for bucket, k in ((by_type, g["transaction_type"]), (signs, int(g["sign"]))):
                n, amounts = bucket.get(k, (0, []))
                bucket[k] = (n + g["n"], [*amounts, g["total"]])
        credits, charges = signs.get(1, (0, [])), signs.get(-1, (0, []))
        summary = LedgerSummary(
            total_transactions=sum(n for n, _ in signs.values()),
            credits_added=total(credits[1]), credits_used=-total(charges[1]),
            credit_count=credits[0], charge_count=charges[0],
            by_type={t: TypeTotals(count=n, total=total(a)) for t, (n, a) in sorted(by_type.items())},
        )
        if not detailed:
            return summary
        return msgspec.structs.replace(
            summary, daily=await self._daily(conditions),
            largest_credit=await self._largest(conditions, credit=True),
            largest_charge=await self._largest(conditions, credit=False))

    async def _daily(self, conditions: list[ColumnElement[bool]]) -> list[DayTotals]:
        day = func.date(func.timezone("UTC", ct.c.created_at)).label("day")
        sign = func.sign(ct.c.amount).label("sign")
        grouped = (await self._conn.execute(
            select(day, sign, func.count().label("n"), func.sum(ct.c.amount).label("total"))
            .where(*conditions).group_by(day, sign))).mappings().all()
        days: dict[date, dict[int, tuple[int, Decimal]]] = {}
        for g in grouped:
            days.setdefault(g["day"], {})[int(g["sign"])] = (g["n"], g["total"])
        return [DayTotals(day=d, credits_added=s.get(1, (0, ZERO))[1], credits_used=-s.get(-1, (0, ZERO))[1],
                          count=sum(n for n, _ in s.values())) for d, s in sorted(days.items())]

    async def _largest(self, conditions: list[ColumnElement[bool]], *, credit: bool) -> CreditTransaction | None:
        query = select(ct).where(*conditions, ct.c.amount > 0 if credit else ct.c.amount < 0).order_by(
            ct.c.amount.desc() if credit else ct.c.amount.asc(), ct.c.id.asc()).limit(1)
        row = (await self._conn.execute(query)).mappings().first()
        return transaction_from_row(row) if row else None

    async def granted_since(self, created_by: str, since: datetime) -> Decimal:
        conditions = [ct.c.created_by == created_by, ct.c.created_at >= since,
                      ct.c.transaction_type == TransactionType.ADMIN_CREDIT.value]
        if self._text_money:
            amounts = (await self._conn.execute(select(ct.c.amount).where(*conditions))).scalars().all()
            return total(a for a in amounts if a > 0)
        granted = (await self._conn.execute(
            select(func.sum(ct.c.amount)).where(*conditions, ct.c.amount > 0))).scalar_one()
        return granted if granted is not None else ZERO

    async def rows_after(self, after_id: int, *, limit: int) -> list[CreditTransaction]:
        rows = (await self._conn.execute(
            select(ct).where(ct.c.id > after_id).order_by(ct.c.id).limit(limit))).mappings().all()
        return [transaction_from_row(r) for r in rows]

    async def history(self, user_id: int) -> list[CreditTransaction]:
        rows = (await self._conn.execute(
            select(ct).where(ct.c.user_id == user_id).order_by(ct.c.id))).mappings().all()
        return [transaction_from_row(r) for r in rows]

    async def user_balances(self, after_user_id: int, *, limit: int) -> list[AccountBalances]:
        rows = (await self._conn.execute(
            select(users.c.id, users.c.subscription_allowance, users.c.purchased_credits)
            .where(users.c.id > after_user_id).order_by(users.c.id).limit(limit))).mappings().all()
        return [AccountBalances(user_id=r["id"], balances=Balances(
            subscription_allowance=r["subscription_allowance"], purchased_credits=r["purchased_credits"]))
            for r in rows]

    async def usage_gaps(self, request_ids: list[str] | None = None) -> list[UsageGap]:
        usage = TransactionType.API_USAGE.value
        uncharged = (select(ccr.c.request_id, ccr.c.user_id, ccr.c.cost_usd)
                     .select_from(ccr.outerjoin(ct, and_(ct.c.request_id == ccr.c.request_id,
                                                         ct.c.transaction_type == usage)))
                     .where(ccr.c.status == "completed", ccr.c.user_id.is_not(None), ccr.c.cost_usd.is_not(None),
                            ct.c.id.is_(None)))
        if not self._text_money:
            uncharged = uncharged.where(ccr.c.cost_usd > 0)
        unlogged = (select(ct.c.request_id, ct.c.user_id, ct.c.amount)
                    .select_from(ct.outerjoin(ccr, ccr.c.request_id == ct.c.request_id))
                    .where(ct.c.transaction_type == usage, ct.c.request_id.is_not(None), ccr.c.id.is_(None)))
        if request_ids is not None:
            uncharged = uncharged.where(ccr.c.request_id.in_(request_ids))
            unlogged = unlogged.where(ct.c.request_id.in_(request_ids))
        gaps = [UsageGap(kind=MismatchKind.UNCHARGED_REQUEST, request_id=rid, user_id=uid, amount=cost)
                for rid, uid, cost in (await self._conn.execute(uncharged)).all() if cost > 0]
        gaps += [UsageGap(kind=MismatchKind.UNLOGGED_USAGE, request_id=rid, user_id=uid, amount=amount)
                 for rid, uid, amount in (await self._conn.execute(unlogged)).all()]
        return sorted(gaps, key=lambda g: g.request_id)

    async def system_balances(self) -> SystemBalances:
        if self._text_money:
            rows = (await self._conn.execute(
                select(users.c.subscription_allowance, users.c.purchased_credits))).all()
            return SystemBalances(users=len(rows), total=total(a + p for a, p in rows))
        count, balance = (await self._conn.execute(select(
            func.count(), func.sum(users.c.subscription_allowance + users.c.purchased_credits)))).one()
        return SystemBalances(users=count, total=balance if balance is not None else ZERO)


def _range(query: TransactionQuery) -> list[ColumnElement[bool]]:
    """The conditions SQL evaluates exactly on either database: ids, types and timestamps."""
    conditions: list[ColumnElement[bool]] = []
    if query.user_id is not None:
        conditions.append(ct.c.user_id == query.user_id)
    if query.transaction_type is not None:
        conditions.append(ct.c.transaction_type == query.transaction_type)
    if query.since is not None:
        conditions.append(ct.c.created_at >= query.since)
    if query.until is not None:
        conditions.append(ct.c.created_at < query.until)
    return conditions
