"""Wire shapes of the caller's own keys and profile."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from adapters.http.schemas.auth import Environment
from adapters.http.schemas.money import money
from domain.accounts import User
from domain.activity import ActivityEntry, ActivityStats, UsageGroup
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


class ActivityLogEntryOut(msgspec.Struct, kw_only=True):
    request_id: str
    created_at: datetime
    model: str
    provider: str | None
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost_usd: msgspec.Raw | None
    processing_time_ms: int
    time_to_first_token_ms: int | None
    tokens_per_second: float | None
    status: str
    api_key_id: int | None
    key_name: str | None

    @classmethod
    def of(cls, e: ActivityEntry) -> ActivityLogEntryOut:
        return cls(request_id=e.request_id, created_at=e.created_at, model=e.model, provider=e.provider,
                   input_tokens=e.input_tokens, output_tokens=e.output_tokens, total_tokens=e.total_tokens,
                   cost_usd=money(e.cost_usd) if e.cost_usd is not None else None,
                   processing_time_ms=e.processing_time_ms, time_to_first_token_ms=e.time_to_first_token_ms,
                   tokens_per_second=e.tokens_per_second, status=e.status, api_key_id=e.api_key_id,
                   key_name=e.key_name)


class ActivityLogOut(msgspec.Struct, kw_only=True):
    logs: list[ActivityLogEntryOut]
    total: int
    has_more: bool
    limit: int
    offset: int


def usage_out(g: UsageGroup, name: str) -> dict[str, Any]:
    out: dict[str, Any] = {name: g.key, "requests": g.requests, "completed": g.completed, "failed": g.failed,
                           "input_tokens": g.input_tokens, "output_tokens": g.output_tokens,
                           "total_tokens": g.total_tokens, "cost_usd": money(g.cost_usd),
                           "avg_processing_time_ms": g.avg_processing_time_ms}
    if name == "api_key_id":
        out["api_key_id"] = int(g.key) if g.key is not None else None
        out["key_name"] = g.label
    return out


class ActivityStatsOut(msgspec.Struct, kw_only=True):
    period: dict[str, Any]
    totals: dict[str, Any]
    daily: list[dict[str, Any]]
    by_model: list[dict[str, Any]]
    by_provider: list[dict[str, Any]]
    by_key: list[dict[str, Any]]

    @classmethod
    def of(cls, s: ActivityStats) -> ActivityStatsOut:
        t = s.totals
        return cls(
            period={"from": s.since, "to": s.until, "days": s.days},
            totals={"requests": t.requests, "completed": t.completed, "failed": t.failed,
                    "input_tokens": t.input_tokens, "output_tokens": t.output_tokens, "total_tokens": t.total_tokens,
                    "cost_usd": money(t.cost_usd), "avg_processing_time_ms": t.avg_processing_time_ms},
            daily=[{"date": day.isoformat(), "requests": g.requests, "total_tokens": g.total_tokens,
                    "cost_usd": money(g.cost_usd)} for day, g in s.daily],
            by_model=[usage_out(g, "model") for g in s.by_model],
            by_provider=[usage_out(g, "provider") for g in s.by_provider],
            by_key=[usage_out(g, "api_key_id") for g in s.by_key])


class KeyRateLimitsOut(msgspec.Struct, kw_only=True):
    api_key_id: int
    key_name: str
    display: str
    source: str
    limits: dict[str, int | None]
    usage: dict[str, int]
    resets_in_seconds: dict[str, int]


class RateLimitsOut(msgspec.Struct, kw_only=True):
    rate_limit_configs: list[KeyRateLimitsOut]
