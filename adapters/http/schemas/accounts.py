"""Wire shapes of the caller's own keys and profile."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from adapters.http.schemas.auth import Environment
from adapters.http.schemas.money import money
from domain.accounts import User
from domain.api_keys import ApiKey

ScopeName = Literal["inference", "account"]
Restriction = Annotated[str, msgspec.Meta(min_length=1, max_length=253)]


class KeyOut(msgspec.Struct, kw_only=True):
    """Never a hash, never a secret: what identifies a key to a human."""

    id: int
    name: str
    display: str
    prefix: str
    last4: str
    environment_tag: str
    kind: str
    is_primary: bool
    scopes: list[str]
    ip_allowlist: list[str]
    domain_referrers: list[str]
    expires_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime | None
    rotated_at: datetime | None
    revoked_at: datetime | None
    is_active: bool

    @classmethod
    def fields_of(cls, k: ApiKey) -> dict[str, Any]:
        return dict(id=k.id, name=k.name, display=k.display, prefix=k.prefix, last4=k.last4,
                    environment_tag=k.environment, kind=k.kind, is_primary=k.is_primary, scopes=list(k.scopes),
                    ip_allowlist=list(k.ip_allowlist), domain_referrers=list(k.domain_referrers),
                    expires_at=k.expires_at, last_used_at=k.last_used_at, created_at=k.created_at,
                    rotated_at=k.rotated_at, revoked_at=k.revoked_at, is_active=k.is_active)

    @classmethod
    def of(cls, k: ApiKey) -> KeyOut:
        return cls(**cls.fields_of(k))


class KeysOut(msgspec.Struct, kw_only=True):
    keys: list[KeyOut]
    total: int


class CreateKeyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] = "API Key"
    environment_tag: Environment = "live"
    scopes: Annotated[list[ScopeName], msgspec.Meta(min_length=1, max_length=2)] = msgspec.field(
        default_factory=lambda: ["inference", "account"])
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = None
    ip_allowlist: Annotated[list[Restriction], msgspec.Meta(max_length=50)] = msgspec.field(default_factory=list)
    domain_referrers: Annotated[list[Restriction], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=list)


class CreatedKeyOut(KeyOut, kw_only=True):
    api_key: str
    message: str


class RotateKeyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    grace_seconds: Annotated[int, msgspec.Meta(ge=0, le=86400)] = 0


class RotatedKeyOut(KeyOut, kw_only=True):
    api_key: str
    previous_key_valid_until: datetime | None


class RevokedKeyOut(msgspec.Struct, kw_only=True):
    success: bool
    message: str
    id: int


class ProfileOut(msgspec.Struct, kw_only=True):
    user_id: int
    username: str
    email: str
    display_name: str | None
    phone_number: str | None
    auth_method: str
    role: str
    tier: str
    tier_display_name: str
    subscription_status: str
    trial_expires_at: datetime | None
    credits: msgspec.Raw
    subscription_allowance: msgspec.Raw
    purchased_credits: msgspec.Raw
    referral_code: str | None
    preferences: dict[str, Any]
    has_password: bool
    privy_linked: bool
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, u: User) -> ProfileOut:
        return cls(user_id=u.id, username=u.username, email=u.email, display_name=u.display_name,
                   phone_number=u.phone_number, auth_method=u.auth_method, role=u.role.value, tier=u.tier,
                   tier_display_name=u.tier_display_name, subscription_status=u.subscription_status,
                   trial_expires_at=u.trial_expires_at, credits=money(u.balance),
                   subscription_allowance=money(u.subscription_allowance),
                   purchased_credits=money(u.purchased_credits), referral_code=u.referral_code,
                   preferences=u.preferences, has_password=u.has_password,
                   privy_linked=u.privy_user_id is not None, created_at=u.created_at, updated_at=u.updated_at)


class ProfileIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$")] | None = None
    display_name: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] \
        | None = None
    preferences: dict[str, Any] | None = None


class AccountDeletedOut(msgspec.Struct, kw_only=True):
    status: str
    message: str
    user_id: int
    timestamp: datetime
