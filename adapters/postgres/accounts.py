"""Users, API keys and the authentication lookup, over one SQL connection."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.postgres.failures import database_guard
from adapters.postgres.tables import api_keys, users
from domain.accounts import NewUser, Role, User
from domain.api_keys import ApiKey, NewApiKey, Principal
from domain.errors import Conflict

_USER_COLUMNS = [users.c.id, users.c.email, users.c.username, users.c.role, users.c.subscription_allowance,
                 users.c.purchased_credits, users.c.is_active, users.c.created_at, users.c.updated_at]
_KEY_COLUMNS = [api_keys.c.id, api_keys.c.user_id, api_keys.c.key_hash, api_keys.c.prefix, api_keys.c.last4,
                api_keys.c.name, api_keys.c.environment, api_keys.c.is_active, api_keys.c.expires_at,
                api_keys.c.last_used_at, api_keys.c.created_at]


def user_from_row(row: RowMapping | dict[str, Any], prefix: str = "") -> User:
    return User(
        id=row[f"{prefix}id"], email=row[f"{prefix}email"], username=row[f"{prefix}username"],
        role=Role(row[f"{prefix}role"]), subscription_allowance=row[f"{prefix}subscription_allowance"],
        purchased_credits=row[f"{prefix}purchased_credits"], is_active=bool(row[f"{prefix}is_active"]),
        created_at=row[f"{prefix}created_at"], updated_at=row[f"{prefix}updated_at"],
    )


def key_from_row(row: RowMapping | dict[str, Any]) -> ApiKey:
    return ApiKey(
        id=row["id"], user_id=row["user_id"], key_hash=row["key_hash"], prefix=row["prefix"],
        last4=row["last4"], name=row["name"], environment=row["environment"],
        is_active=bool(row["is_active"]), expires_at=row["expires_at"], last_used_at=row["last_used_at"],
        created_at=row["created_at"],
    )


def _filtered(query: Select[Any], email: str | None, is_active: bool | None) -> Select[Any]:
    if email:
        escaped = email.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(users.c.email).like(f"%{escaped}%", escape="\\"))
    if is_active is not None:
        query = query.where(users.c.is_active == is_active)
    return query


class PostgresUserRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, new: NewUser, *, now: datetime) -> User:
        try:
            result = await self._conn.execute(
                insert(users).values(email=new.email, username=new.username, role=new.role.value,
                                     subscription_allowance=Decimal(0), purchased_credits=Decimal(0),
                                     is_active=True, created_at=now, updated_at=now)
                .returning(*_USER_COLUMNS))
        except IntegrityError as exc:
            raise Conflict(f"A user with email {new.email} already exists") from exc
        return user_from_row(result.mappings().one())

    async def get(self, user_id: int) -> User | None:
        row = (await self._conn.execute(select(*_USER_COLUMNS).where(users.c.id == user_id))).mappings().first()
        return user_from_row(row) if row else None

    async def get_by_email(self, email: str) -> User | None:
        row = (await self._conn.execute(
            select(*_USER_COLUMNS).where(users.c.email == email))).mappings().first()
        return user_from_row(row) if row else None

    async def get_for_update(self, user_id: int) -> User | None:
        row = (await self._conn.execute(
            select(*_USER_COLUMNS).where(users.c.id == user_id).with_for_update())).mappings().first()
        return user_from_row(row) if row else None

    async def set_balances(self, user_id: int, *, subscription_allowance: Decimal,
                           purchased_credits: Decimal, now: datetime) -> None:
        await self._conn.execute(update(users).where(users.c.id == user_id).values(
            subscription_allowance=subscription_allowance, purchased_credits=purchased_credits,
            updated_at=now))

    async def list(self, *, limit: int, offset: int, email: str | None = None,
                   is_active: bool | None = None) -> list[User]:
        query = _filtered(select(*_USER_COLUMNS), email, is_active)
        rows = (await self._conn.execute(query.order_by(users.c.created_at.desc(), users.c.id.desc())
                                         .limit(limit).offset(offset))).mappings().all()
        return [user_from_row(r) for r in rows]

    async def count(self, *, email: str | None = None, is_active: bool | None = None) -> int:
        query = _filtered(select(func.count()).select_from(users), email, is_active)
        return int((await self._conn.execute(query)).scalar_one())


class PostgresApiKeyRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, new: NewApiKey, *, now: datetime) -> ApiKey:
        try:
            result = await self._conn.execute(insert(api_keys).values(
                user_id=new.user_id, key_hash=new.key_hash, prefix=new.prefix, last4=new.last4, name=new.name,
                environment=new.environment, is_active=True, expires_at=new.expires_at, created_at=now,
            ).returning(*_KEY_COLUMNS))
        except IntegrityError as exc:
            raise Conflict("duplicate key hash") from exc
        return key_from_row(result.mappings().one())

    async def get(self, key_id: int) -> ApiKey | None:
        row = (await self._conn.execute(select(*_KEY_COLUMNS).where(api_keys.c.id == key_id))).mappings().first()
        return key_from_row(row) if row else None

    async def list_for_user(self, user_id: int) -> list[ApiKey]:
        rows = (await self._conn.execute(
            select(*_KEY_COLUMNS).where(api_keys.c.user_id == user_id).order_by(api_keys.c.id))).mappings()
        return [key_from_row(r) for r in rows]

    async def deactivate(self, key_id: int) -> bool:
        result = await self._conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(is_active=False))
        return bool(result.rowcount)


_PRINCIPAL_QUERY = select(*_KEY_COLUMNS, *(c.label(f"u_{c.name}") for c in _USER_COLUMNS)).join(
    users, users.c.id == api_keys.c.user_id)


class PostgresKeyDirectory:
    """Authentication's single indexed lookup, on its own pooled connection."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def find(self, key_hash: str) -> Principal | None:
        async with database_guard(), self._engine.connect() as conn:
            row = (await conn.execute(_PRINCIPAL_QUERY.where(api_keys.c.key_hash == key_hash))).mappings().first()
        if row is None:
            return None
        return Principal(key=key_from_row(row), user=user_from_row(row, prefix="u_"))
