"""Wire shapes of the admin user directory (#1609, #1611, #1612)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from adapters.http.schemas.money import money
from domain.accounts import User
from domain.api_keys import ApiKey
from domain.ledger import CreditTransaction


class UserOut(msgspec.Struct, kw_only=True):
    id: int
    username: str
    email: str
    credits: msgspec.Raw
    subscription_allowance: msgspec.Raw
    purchased_credits: msgspec.Raw
    is_active: bool
    role: str
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, u: User) -> UserOut:
        return cls(id=u.id, username=u.username, email=u.email, credits=money(u.balance),
                   subscription_allowance=money(u.subscription_allowance),
                   purchased_credits=money(u.purchased_credits),
                   is_active=u.is_active, role=u.role.value, created_at=u.created_at, updated_at=u.updated_at)


class ApiKeyOut(msgspec.Struct, kw_only=True):
    """Never the key itself: only what identifies it to a human."""

    id: int
    key_name: str
    prefix: str
    last4: str
    environment: str
    is_active: bool
    expires_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime | None

    @classmethod
    def of(cls, k: ApiKey) -> ApiKeyOut:
        return cls(id=k.id, key_name=k.name, prefix=k.prefix, last4=k.last4, environment=k.environment,
                   is_active=k.is_active, expires_at=k.expires_at, last_used_at=k.last_used_at,
                   created_at=k.created_at)


class UsersCountOut(msgspec.Struct, kw_only=True):
    count: int
    timestamp: datetime


class Pagination(msgspec.Struct, kw_only=True):
    limit: int
    offset: int
    current_page: int
    total_pages: int


class UsersPageOut(msgspec.Struct, kw_only=True):
    status: str
    total_users: int
    has_more: bool
    pagination: Pagination
    filters_applied: dict[str, Any]
    users: list[UserOut]
    timestamp: datetime


def transaction_out(t: CreditTransaction) -> dict[str, Any]:
    return {"id": t.id, "amount": money(t.amount), "transaction_type": t.transaction_type.value,
            "description": t.description, "balance_before": money(t.balance_before),
            "balance_after": money(t.balance_after),
            "request_id": t.request_id, "created_by": t.created_by, "metadata": t.metadata,
            "created_at": t.created_at}


def user_details(u: User) -> dict[str, Any]:
    """#1612: every column but the password hash (which never leaves the repository), money exact."""
    found: dict[str, Any] = msgspec.to_builtins(u)
    for field in ("subscription_allowance", "purchased_credits", "trial_credits"):
        value = getattr(u, field)
        found[field] = money(value) if value is not None else None
    found["credits"] = money(u.balance)
    found["role"] = u.role.value
    found["registration_date"] = found.get("created_at")
    return found


class UserDetailsOut(msgspec.Struct, kw_only=True):
    status: str
    user: dict[str, Any]
    api_keys: list[dict[str, Any]]
    recent_usage: list[dict[str, Any]]  # the last 10 request rows, newest first
    recent_transactions: list[dict[str, Any]]  # the last 10 ledger rows (ours, beside the seed's fields)
    recent_activity: list[dict[str, Any]]
    timestamp: datetime
