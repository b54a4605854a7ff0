"""Coupons and redemptions in SQL, on the unit of work's connection.

Exactness under concurrency rests on two statements, not on reads: `claim_use` is one conditional
UPDATE (PostgreSQL re-checks its WHERE against the latest committed row after waiting for the row
lock, so `times_used` never passes `max_uses`), and the redemption insert meets a unique
(coupon_id, user_id) constraint. SQLite serialises writers with BEGIN IMMEDIATE."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, insert, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres.tables import coupon_redemptions as cr
from adapters.postgres.tables import coupons as c
from domain.coupons import (
    Coupon,
    CouponChanges,
    CouponScope,
    CouponStats,
    CouponType,
    CouponUsage,
    CreatorType,
    NewCoupon,
    Redemption,
    RedemptionEntry,
    normalize_code,
)
from domain.errors import Conflict
from domain.money import ZERO, total

_COUPON_COLUMNS = [c.c.id, c.c.code, c.c.value_usd, c.c.coupon_scope, c.c.coupon_type, c.c.max_uses, c.c.times_used,
                   c.c.valid_from, c.c.valid_until, c.c.is_active, c.c.created_at, c.c.assigned_to_user_id,
                   c.c.created_by, c.c.created_by_type, c.c.description]


def coupon_from_row(row: Any) -> Coupon:
    return Coupon(
        id=row["id"], code=row["code"], value_usd=row["value_usd"], coupon_scope=CouponScope(row["coupon_scope"]),
        coupon_type=CouponType(row["coupon_type"]), max_uses=row["max_uses"], times_used=row["times_used"],
        valid_from=row["valid_from"], valid_until=row["valid_until"], is_active=bool(row["is_active"]),
        created_at=row["created_at"], assigned_to_user_id=row["assigned_to_user_id"], created_by=row["created_by"],
        created_by_type=CreatorType(row["created_by_type"]), description=row["description"],
    )


def redemption_from_row(row: Any) -> Redemption:
    return Redemption(
        id=row["id"], coupon_id=row["coupon_id"], user_id=row["user_id"], value_applied=row["value_applied"],
        user_balance_before=row["user_balance_before"], user_balance_after=row["user_balance_after"],
        transaction_id=row["transaction_id"], ip_address=row["ip_address"], user_agent=row["user_agent"],
        redeemed_at=row["redeemed_at"],
    )


def _violates(exc: IntegrityError, constraint: str, sqlite_columns: str) -> bool:
    """PostgreSQL names the constraint; SQLite names the columns ("UNIQUE constraint failed: t.a, t.b")."""
    text = str(exc.orig)
    return constraint in text or f"UNIQUE constraint failed: {sqlite_columns}" in text


class PostgresCouponRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    @property
    def _sqlite(self) -> bool:
        return self._conn.dialect.name == "sqlite"

    async def _one(self, *where: ColumnElement[bool], for_update: bool = False) -> Coupon | None:
        query = select(*_COUPON_COLUMNS).where(*where)
        if for_update:
            query = query.with_for_update()
        row = (await self._conn.execute(query)).mappings().first()
        return coupon_from_row(row) if row else None

    async def _money_sum(self, column: Any, *where: ColumnElement[bool]) -> Decimal:
        # SQLite keeps money as text and would sum it through float: there the rows are summed in Python.
        if self._sqlite:
            return total((await self._conn.execute(select(column).where(*where))).scalars().all())
        value = (await self._conn.execute(select(func.sum(column)).where(*where))).scalar_one()
        return Decimal(value) if value is not None else ZERO

    async def add(self, new: NewCoupon, *, now: datetime) -> Coupon:
        try:
            result = await self._conn.execute(insert(c).values(
                code=normalize_code(new.code), value_usd=new.value_usd, coupon_scope=new.coupon_scope.value,
                coupon_type=new.coupon_type.value, max_uses=new.max_uses, times_used=0, valid_from=new.valid_from,
                valid_until=new.valid_until, is_active=True, assigned_to_user_id=new.assigned_to_user_id,
                created_by=new.created_by, created_by_type=new.created_by_type.value, description=new.description,
                created_at=now, updated_at=now,
            ).returning(*_COUPON_COLUMNS))
        except IntegrityError as exc:
            if _violates(exc, "uq_coupons_code", "coupons.code"):
                raise Conflict(f"Coupon code {normalize_code(new.code)} already exists",
                               code="duplicate_coupon_code") from exc
            raise
        return coupon_from_row(result.mappings().one())

    async def get(self, coupon_id: int) -> Coupon | None:
        return await self._one(c.c.id == coupon_id)

    async def get_for_update(self, coupon_id: int) -> Coupon | None:
        return await self._one(c.c.id == coupon_id, for_update=True)

    async def get_by_code(self, code: str) -> Coupon | None:
        return await self._one(c.c.code == normalize_code(code))

    async def list(self, *, limit: int, offset: int, scope: CouponScope | None = None,
                   coupon_type: CouponType | None = None, is_active: bool | None = None) -> list[Coupon]:
        query = select(*_COUPON_COLUMNS)
        if scope is not None:
            query = query.where(c.c.coupon_scope == scope.value)
        if coupon_type is not None:
            query = query.where(c.c.coupon_type == coupon_type.value)
        if is_active is not None:
            query = query.where(c.c.is_active == is_active)
        rows = (await self._conn.execute(query.order_by(c.c.created_at.desc(), c.c.id.desc())
                                         .limit(limit).offset(offset))).mappings().all()
        return [coupon_from_row(r) for r in rows]

    async def update(self, coupon_id: int, changes: CouponChanges, *, now: datetime) -> Coupon | None:
        row = (await self._conn.execute(update(c).where(c.c.id == coupon_id).values(
            **changes.as_dict(), updated_at=now).returning(*_COUPON_COLUMNS))).mappings().first()
        return coupon_from_row(row) if row else None

    async def deactivate(self, coupon_id: int, *, now: datetime) -> bool:
        result = await self._conn.execute(update(c).where(c.c.id == coupon_id, c.c.is_active == true())
                                          .values(is_active=False, updated_at=now))
        return bool(result.rowcount)

    async def claim_use(self, coupon_id: int, *, now: datetime) -> Coupon | None:
        row = (await self._conn.execute(
            update(c).where(c.c.id == coupon_id, c.c.is_active == true(), c.c.times_used < c.c.max_uses,
                            c.c.valid_from <= now, c.c.valid_until >= now)
            .values(times_used=c.c.times_used + 1, updated_at=now).returning(*_COUPON_COLUMNS)
        )).mappings().first()
        return coupon_from_row(row) if row else None

    async def has_redeemed(self, coupon_id: int, user_id: int) -> bool:
        return bool((await self._conn.execute(select(exists().where(
            cr.c.coupon_id == coupon_id, cr.c.user_id == user_id)))).scalar())

    async def add_redemption(self, redemption: Redemption) -> Redemption:
        try:
            result = await self._conn.execute(insert(cr).values(
                coupon_id=redemption.coupon_id, user_id=redemption.user_id, value_applied=redemption.value_applied,
                user_balance_before=redemption.user_balance_before, user_balance_after=redemption.user_balance_after,
                transaction_id=redemption.transaction_id, ip_address=redemption.ip_address,
                user_agent=redemption.user_agent, redeemed_at=redemption.redeemed_at,
            ).returning(cr))
        except IntegrityError as exc:
            if _violates(exc, "uq_coupon_redemptions_coupon_id",
                         "coupon_redemptions.coupon_id, coupon_redemptions.user_id"):
                raise Conflict("You have already redeemed this coupon", code="already_redeemed") from exc
            raise
        return redemption_from_row(result.mappings().one())

    async def available_for(self, user_id: int, *, now: datetime) -> list[Coupon]:
        redeemed = exists().where(cr.c.coupon_id == c.c.id, cr.c.user_id == user_id)
        query = select(*_COUPON_COLUMNS).where(
            c.c.is_active == true(), c.c.valid_from <= now, c.c.valid_until >= now, c.c.times_used < c.c.max_uses,
            or_(c.c.coupon_scope == CouponScope.GLOBAL.value,
                and_(c.c.coupon_scope == CouponScope.USER_SPECIFIC.value, c.c.assigned_to_user_id == user_id)),
            ~redeemed,
        )
        rows = [coupon_from_row(r) for r in (await self._conn.execute(query)).mappings().all()]
        # Ordered here, not in SQL: SQLite would order its text money column as text.
        return sorted(rows, key=lambda coupon: (-coupon.value_usd, coupon.valid_until, coupon.id))

    async def history_for(self, user_id: int, *, limit: int) -> list[RedemptionEntry]:
        query = (select(cr, c.c.code.label("coupon_code"), c.c.coupon_scope, c.c.coupon_type)
                 .join(c, c.c.id == cr.c.coupon_id).where(cr.c.user_id == user_id)
                 .order_by(cr.c.redeemed_at.desc(), cr.c.id.desc()).limit(limit))
        return [RedemptionEntry(redemption=redemption_from_row(r), coupon_code=r["coupon_code"],
                                coupon_scope=CouponScope(r["coupon_scope"]), coupon_type=CouponType(r["coupon_type"]))
                for r in (await self._conn.execute(query)).mappings().all()]

    async def usage(self, coupon_id: int) -> CouponUsage:
        counts = (await self._conn.execute(select(func.count(), func.count(func.distinct(cr.c.user_id)))
                                           .where(cr.c.coupon_id == coupon_id))).one()
        return CouponUsage(total_redemptions=int(counts[0]), unique_users=int(counts[1]),
                           total_value_distributed=await self._money_sum(cr.c.value_applied,
                                                                         cr.c.coupon_id == coupon_id))

    async def stats(self) -> CouponStats:
        def tally(condition: ColumnElement[bool]) -> Any:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        coupon_counts = (await self._conn.execute(select(
            func.count(), tally(c.c.is_active == true()),
            tally(c.c.coupon_scope == CouponScope.USER_SPECIFIC.value),
            tally(c.c.coupon_scope == CouponScope.GLOBAL.value),
        ).select_from(c))).one()
        redemption_counts = (await self._conn.execute(
            select(func.count(), func.count(func.distinct(cr.c.user_id))).select_from(cr))).one()
        return CouponStats(
            total_coupons=int(coupon_counts[0]), active_coupons=int(coupon_counts[1]),
            user_specific_coupons=int(coupon_counts[2]), global_coupons=int(coupon_counts[3]),
            total_redemptions=int(redemption_counts[0]), unique_redeemers=int(redemption_counts[1]),
            total_value_distributed=await self._money_sum(cr.c.value_applied, true()),
        )
