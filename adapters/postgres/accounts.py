"""Users, API keys, reset tokens and the authentication lookup, over one SQL connection."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.postgres.failures import database_guard
from adapters.postgres.tables import (
    api_keys,
    chat_messages,
    chat_sessions,
    message_feedback,
    password_reset_tokens,
    users,
)
from domain.accounts import NewUser, ProfileChanges, Role, SubscriptionStatus, User, new_referral_code
from domain.api_keys import ApiKey, NewApiKey, Principal
from domain.errors import Conflict
from domain.password_resets import ResetToken

# password_hash is read only to become User.has_password; the hash itself never leaves this module
# except through password_hash().
_USER_COLUMNS = [users.c.id, users.c.email, users.c.username, users.c.role, users.c.subscription_allowance,
                 users.c.purchased_credits, users.c.is_active, users.c.created_at, users.c.updated_at,
                 users.c.privy_user_id, users.c.display_name, users.c.phone_number, users.c.auth_method,
                 users.c.password_hash, users.c.deleted_at,
                 users.c.subscription_status, users.c.tier, users.c.trial_started_at, users.c.trial_expires_at,
                 users.c.trial_credits, users.c.trial_converted_at, users.c.referral_code,
                 users.c.referred_by_code, users.c.preferences, users.c.welcome_email_sent]
_KEY_COLUMNS = [api_keys.c.id, api_keys.c.user_id, api_keys.c.key_hash, api_keys.c.prefix, api_keys.c.last4,
                api_keys.c.name, api_keys.c.environment, api_keys.c.is_active, api_keys.c.expires_at,
                api_keys.c.last_used_at, api_keys.c.created_at, api_keys.c.kind, api_keys.c.is_primary,
                api_keys.c.scopes, api_keys.c.ip_allowlist, api_keys.c.domain_referrers,
                api_keys.c.previous_key_hash, api_keys.c.previous_valid_until, api_keys.c.rotated_at,
                api_keys.c.revoked_at]

# Which unique index refused a row, by the name the database reports (PostgreSQL names the
# constraint; SQLite names the index or the columns).
_CONFLICTS = (
    (("ux_users_email_ci", "uq_users_email", "users.email"), "email_taken", "User with this email already exists"),
    (("ux_users_username_ci",), "username_taken", "Username already taken"),
    (("uq_users_privy_user_id", "users.privy_user_id"), "privy_taken", "Privy account already linked"),
    (("uq_users_referral_code", "users.referral_code"), "referral_code_taken", "Referral code taken"),
)


def _conflict(exc: IntegrityError) -> Conflict:
    text = str(exc.orig)
    for names, code, message in _CONFLICTS:
        if any(name in text for name in names):
            return Conflict(message, code=code)
    if "lower(username)" in text:
        return Conflict("Username already taken", code="username_taken")
    if "lower(email)" in text:
        return Conflict("User with this email already exists", code="email_taken")
    return Conflict("User already exists", code="user_conflict")


def user_from_row(row: RowMapping | dict[str, Any], prefix: str = "") -> User:
    p = prefix
    return User(
        id=row[f"{p}id"], email=row[f"{p}email"], username=row[f"{p}username"],
        role=Role(row[f"{p}role"]), subscription_allowance=row[f"{p}subscription_allowance"],
        purchased_credits=row[f"{p}purchased_credits"], is_active=bool(row[f"{p}is_active"]),
        created_at=row[f"{p}created_at"], updated_at=row[f"{p}updated_at"],
        privy_user_id=row[f"{p}privy_user_id"], display_name=row[f"{p}display_name"],
        phone_number=row[f"{p}phone_number"], auth_method=row[f"{p}auth_method"],
        has_password=row[f"{p}password_hash"] is not None, deleted_at=row[f"{p}deleted_at"],
        subscription_status=row[f"{p}subscription_status"], tier=row[f"{p}tier"],
        trial_started_at=row[f"{p}trial_started_at"], trial_expires_at=row[f"{p}trial_expires_at"],
        trial_credits=row[f"{p}trial_credits"], trial_converted_at=row[f"{p}trial_converted_at"],
        referral_code=row[f"{p}referral_code"], referred_by_code=row[f"{p}referred_by_code"],
        preferences=dict(row[f"{p}preferences"] or {}), welcome_email_sent=bool(row[f"{p}welcome_email_sent"]),
    )


def key_from_row(row: RowMapping | dict[str, Any]) -> ApiKey:
    return ApiKey(
        id=row["id"], user_id=row["user_id"], key_hash=row["key_hash"], prefix=row["prefix"],
        last4=row["last4"], name=row["name"], environment=row["environment"],
        is_active=bool(row["is_active"]), expires_at=row["expires_at"], last_used_at=row["last_used_at"],
        created_at=row["created_at"], kind=row["kind"], is_primary=bool(row["is_primary"]),
        scopes=tuple(row["scopes"] or ()), ip_allowlist=tuple(row["ip_allowlist"] or ()),
        domain_referrers=tuple(row["domain_referrers"] or ()), previous_key_hash=row["previous_key_hash"],
        previous_valid_until=row["previous_valid_until"], rotated_at=row["rotated_at"],
        revoked_at=row["revoked_at"],
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
        values = dict(
            email=new.email, username=new.username, role=new.role.value, subscription_allowance=Decimal(0),
            purchased_credits=Decimal(0), is_active=True, created_at=now, updated_at=now,
            privy_user_id=new.privy_user_id, display_name=new.display_name, phone_number=new.phone_number,
            auth_method=new.auth_method, password_hash=new.password_hash,
            subscription_status=new.subscription_status, trial_started_at=new.trial_started_at,
            trial_expires_at=new.trial_expires_at, trial_credits=new.trial_credits,
            referral_code=new.referral_code or new_referral_code(), referred_by_code=new.referred_by_code,
            preferences={}, welcome_email_sent=False)
        try:
            async with self._conn.begin_nested():  # a refused row leaves the transaction usable
                result = await self._conn.execute(insert(users).values(**values).returning(*_USER_COLUMNS))
                row = result.mappings().one()
        except IntegrityError as exc:
            raise _conflict(exc) from exc
        return user_from_row(row)

    async def _one(self, condition: Any) -> User | None:
        row = (await self._conn.execute(select(*_USER_COLUMNS).where(condition))).mappings().first()
        return user_from_row(row) if row else None

    async def get(self, user_id: int) -> User | None:
        return await self._one(users.c.id == user_id)

    async def get_by_email(self, email: str) -> User | None:
        return await self._one(func.lower(users.c.email) == email.strip().lower())

    async def get_by_username(self, username: str) -> User | None:
        return await self._one(func.lower(users.c.username) == username.strip().lower())

    async def get_by_privy_id(self, privy_user_id: str) -> User | None:
        return await self._one(users.c.privy_user_id == privy_user_id)

    async def get_by_referral_code(self, code: str) -> User | None:
        return await self._one(users.c.referral_code == code.strip().upper())

    async def password_hash(self, user_id: int) -> str | None:
        value = (await self._conn.execute(
            select(users.c.password_hash).where(users.c.id == user_id))).scalar_one_or_none()
        return str(value) if value is not None else None

    async def set_password_hash(self, user_id: int, password_hash: str, *, now: datetime) -> None:
        await self._conn.execute(update(users).where(users.c.id == user_id).values(
            password_hash=password_hash, updated_at=now))

    async def link_privy(self, user_id: int, privy_user_id: str, *, now: datetime) -> bool:
        try:
            async with self._conn.begin_nested():
                result = await self._conn.execute(update(users).where(
                    users.c.id == user_id, users.c.privy_user_id.is_(None)).values(
                    privy_user_id=privy_user_id, updated_at=now))
        except IntegrityError as exc:
            raise _conflict(exc) from exc
        return bool(result.rowcount)

    async def update_profile(self, user_id: int, changes: ProfileChanges, *, now: datetime) -> User:
        values: dict[str, Any] = {"updated_at": now}
        if changes.username is not None:
            values["username"] = changes.username
        if changes.display_name is not None:
            values["display_name"] = changes.display_name
        if changes.email is not None:
            values["email"] = changes.email
        if changes.preferences is not None:
            current = (await self._conn.execute(
                select(users.c.preferences).where(users.c.id == user_id))).scalar_one_or_none() or {}
            values["preferences"] = {**current, **changes.preferences}
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(update(users).where(users.c.id == user_id).values(**values))
        except IntegrityError as exc:
            raise _conflict(exc) from exc
        user = await self.get(user_id)
        assert user is not None
        return user

    async def convert_trial(self, user_id: int, *, now: datetime) -> bool:
        result = await self._conn.execute(update(users).where(
            users.c.id == user_id, users.c.subscription_status == SubscriptionStatus.TRIAL.value,
            users.c.trial_converted_at.is_(None)).values(
            subscription_status=SubscriptionStatus.ACTIVE.value, trial_converted_at=now, updated_at=now))
        return bool(result.rowcount)

    async def mark_welcome_sent(self, user_id: int) -> None:
        await self._conn.execute(update(users).where(users.c.id == user_id).values(welcome_email_sent=True))

    async def erase(self, user_id: int, *, now: datetime) -> None:
        sessions = select(chat_sessions.c.id).where(chat_sessions.c.user_id == user_id).scalar_subquery()
        await self._conn.execute(delete(message_feedback).where(message_feedback.c.user_id == user_id))
        await self._conn.execute(delete(chat_messages).where(chat_messages.c.session_id.in_(sessions)))
        await self._conn.execute(delete(chat_sessions).where(chat_sessions.c.user_id == user_id))
        await self._conn.execute(update(users).where(users.c.id == user_id).values(
            email=f"deleted-{user_id}@invalid", username=f"deleted-{user_id}", display_name=None,
            phone_number=None, privy_user_id=None, password_hash=None, is_active=False, deleted_at=now,
            preferences={}, updated_at=now))

    async def count_active_admins(self) -> int:
        return int((await self._conn.execute(select(func.count()).select_from(users).where(
            users.c.role == Role.ADMIN.value, users.c.is_active.is_(True)))).scalar_one())

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
                kind=new.kind, is_primary=new.is_primary, scopes=list(new.scopes),
                ip_allowlist=list(new.ip_allowlist), domain_referrers=list(new.domain_referrers),
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

    async def deactivate(self, key_id: int, *, now: datetime | None = None) -> bool:
        values: dict[str, Any] = {"is_active": False, "previous_key_hash": None, "previous_valid_until": None}
        if now is not None:
            values["revoked_at"] = now
        result = await self._conn.execute(update(api_keys).where(
            api_keys.c.id == key_id, api_keys.c.is_active.is_(True)).values(**values))
        return bool(result.rowcount)

    async def rotate(self, key_id: int, *, key_hash: str, prefix: str, last4: str,
                     previous_valid_until: datetime | None, now: datetime) -> ApiKey | None:
        result = await self._conn.execute(update(api_keys).where(
            api_keys.c.id == key_id, api_keys.c.is_active.is_(True)).values(
            previous_key_hash=api_keys.c.key_hash if previous_valid_until is not None else None,
            previous_valid_until=previous_valid_until, key_hash=key_hash, prefix=prefix, last4=last4,
            rotated_at=now).returning(*_KEY_COLUMNS))
        row = result.mappings().first()
        return key_from_row(row) if row else None


class PostgresResetTokenRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, *, user_id: int, token_hash: str, expires_at: datetime, now: datetime,
                  requester_ip: str | None) -> None:
        await self._conn.execute(insert(password_reset_tokens).values(
            user_id=user_id, token_hash=token_hash, expires_at=expires_at, created_at=now,
            requester_ip=requester_ip))

    async def invalidate_for_user(self, user_id: int, *, now: datetime) -> None:
        await self._conn.execute(update(password_reset_tokens).where(
            password_reset_tokens.c.user_id == user_id, password_reset_tokens.c.used_at.is_(None)).values(used_at=now))

    async def consume(self, token_hash: str, *, now: datetime) -> int | None:
        t = password_reset_tokens
        result = await self._conn.execute(update(t).where(
            t.c.token_hash == token_hash, t.c.used_at.is_(None), t.c.expires_at > now).values(used_at=now)
            .returning(t.c.user_id))
        value = result.scalar_one_or_none()
        return int(value) if value is not None else None

    async def find(self, token_hash: str) -> ResetToken | None:
        t = password_reset_tokens
        row = (await self._conn.execute(select(t).where(t.c.token_hash == token_hash))).mappings().first()
        if row is None:
            return None
        return ResetToken(id=row["id"], user_id=row["user_id"], token_hash=row["token_hash"],
                          expires_at=row["expires_at"], used_at=row["used_at"], created_at=row["created_at"])

    async def delete_for_user(self, user_id: int) -> None:
        await self._conn.execute(password_reset_tokens.delete().where(password_reset_tokens.c.user_id == user_id))


_PRINCIPAL_QUERY = select(*_KEY_COLUMNS, *(c.label(f"u_{c.name}") for c in _USER_COLUMNS)).join(
    users, users.c.id == api_keys.c.user_id).where(
    or_(api_keys.c.key_hash == bindparam("h"), api_keys.c.previous_key_hash == bindparam("h")))


class PostgresKeyDirectory:
    """Authentication's single indexed lookup, on its own pooled connection."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def find(self, key_hash: str) -> Principal | None:
        async with database_guard(), self._engine.connect() as conn:
            row = (await conn.execute(_PRINCIPAL_QUERY, {"h": key_hash})).mappings().first()
        if row is None:
            return None
        return Principal(key=key_from_row(row), user=user_from_row(row, prefix="u_"))
