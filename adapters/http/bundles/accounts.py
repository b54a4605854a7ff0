"""Accounts: login, registration, password reset, own keys, profile and activity."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.di import NamedDependency

from domain.services.activity_queries import ActivityLog, ActivityStatistics
from domain.services.auth_attempts import CheckAuthAttempts
from domain.services.own_keys import CreateOwnKey, ListOwnKeys, RevokeOwnKey, RotateOwnKey
from domain.services.password_login import PasswordLogin
from domain.services.password_reset import RequestPasswordReset, ResetPassword
from domain.services.privy_login import PrivyLogin
from domain.services.profile import DeleteAccount, ShowProfile, UpdateProfile
from domain.services.rate_limit_view import ShowRateLimits
from domain.services.register_user import RegisterUser


@dataclass(frozen=True, slots=True)
class AccountsServices:
    check_attempts: CheckAuthAttempts
    register_user: RegisterUser
    password_login: PasswordLogin
    privy_login: PrivyLogin
    request_password_reset: RequestPasswordReset
    reset_password: ResetPassword
    list_own_keys: ListOwnKeys
    create_own_key: CreateOwnKey
    rotate_own_key: RotateOwnKey
    revoke_own_key: RevokeOwnKey
    show_profile: ShowProfile
    update_profile: UpdateProfile
    delete_account: DeleteAccount
    activity_log: ActivityLog
    activity_stats: ActivityStatistics
    show_rate_limits: ShowRateLimits


# what a handler writes to receive it (`accounts_services: AccountsBundle`)
AccountsBundle = NamedDependency[AccountsServices]
