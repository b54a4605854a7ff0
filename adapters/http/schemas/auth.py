"""Wire shapes of login, registration and password reset (#1645-#1648, POST /auth/login)."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any, Literal

import msgspec

from adapters.http.schemas.money import money
from domain.accounts import MAX_PASSWORD, MIN_PASSWORD, User

Environment = Literal["live", "test", "development"]
AuthMethodName = Literal["email", "google", "github", "phone"]
Password = Annotated[str, msgspec.Meta(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD)]
EmailText = Annotated[str, msgspec.Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class PrivyLinkedAccount(msgspec.Struct, kw_only=True):
    """Accepted as the seed sends it; never read for identity (the token's claim is)."""

    type: str
    subject: str | None = None
    email: str | None = None
    address: str | None = None
    name: str | None = None
    phone_number: str | None = None
    verified_at: int | None = None


class PrivyUserData(msgspec.Struct, kw_only=True):
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern=r"\S")]
    created_at: int | None = None
    linked_accounts: list[dict[str, Any]] = msgspec.field(default_factory=list)
    mfa_methods: list[str] = msgspec.field(default_factory=list)
    has_accepted_terms: bool = False
    is_guest: bool = False


class PrivyAuthRequest(msgspec.Struct, kw_only=True):
    user: PrivyUserData
    identity_token: str | None = None
    token: str | None = None
    email: str | None = None
    privy_access_token: str | None = None
    refresh_token: str | None = None
    session_update_action: str | None = None
    is_new_user: bool | None = None
    referral_code: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    environment_tag: Environment = "live"
    auto_create_api_key: bool = True


def cents(amount: Decimal) -> int:
    return int(amount.scaleb(2).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


class PrivyAuthResponse(msgspec.Struct, kw_only=True):
    success: bool
    message: str
    user_id: int
    api_key: str | None
    auth_method: str
    privy_user_id: str | None
    is_new_user: bool
    display_name: str | None
    email: str
    phone_number: str | None
    credits: msgspec.Raw
    timestamp: datetime
    subscription_status: str
    tier: str
    tier_display_name: str
    trial_expires_at: str | None
    subscription_end_date: int | None
    subscription_allowance: int
    purchased_credits: int
    total_credits: int
    allowance_reset_date: str | None

    @classmethod
    def of(cls, user: User, *, api_key: str | None, is_new: bool, now: datetime) -> PrivyAuthResponse:
        return cls(
            success=True, message="Account created successfully" if is_new else "Login successful",
            user_id=user.id, api_key=api_key, auth_method=user.auth_method, privy_user_id=user.privy_user_id,
            is_new_user=is_new, display_name=user.display_name, email=user.email, phone_number=user.phone_number,
            credits=money(user.balance), timestamp=now, subscription_status=user.subscription_status,
            tier=user.tier, tier_display_name=user.tier_display_name,
            trial_expires_at=user.trial_expires_at.isoformat() if user.trial_expires_at else None,
            subscription_end_date=None, subscription_allowance=cents(user.subscription_allowance),
            purchased_credits=cents(user.purchased_credits), total_credits=cents(user.balance),
            allowance_reset_date=None)


class UserRegistrationRequest(msgspec.Struct, kw_only=True):
    username: Annotated[str, msgspec.Meta(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$")]
    email: EmailText
    password: Password | None = None
    auth_method: AuthMethodName = "email"
    environment_tag: Environment = "live"
    key_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] = "Primary Key"
    referral_code: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class UserRegistrationResponse(msgspec.Struct, kw_only=True):
    user_id: int
    username: str
    email: str
    api_key: str
    credits: msgspec.Raw
    environment_tag: str
    scope_permissions: dict[str, list[str]]
    auth_method: str
    subscription_status: str
    message: str
    timestamp: datetime


class LoginRequest(msgspec.Struct, kw_only=True):
    email: Annotated[str, msgspec.Meta(min_length=1, max_length=254)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_PASSWORD)]


class LoginResponse(msgspec.Struct, kw_only=True):
    success: bool
    message: str
    user_id: int
    username: str
    email: str
    api_key: str | None
    subscription_status: str
    credits: msgspec.Raw
    timestamp: datetime


class PasswordResetRequest(msgspec.Struct, kw_only=True):
    email: EmailText


class NewPassword(msgspec.Struct, kw_only=True):
    new_password: Password


class MessageOut(msgspec.Struct, kw_only=True):
    message: str
