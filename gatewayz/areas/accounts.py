"""Accounts: how people get in (Privy, registration, password) and manage their own account."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.http.area import Area
from adapters.http.bundles.accounts import AccountsServices
from adapters.http.controllers.auth import AuthController
from adapters.http.controllers.own_keys import OwnKeysController
from adapters.http.controllers.user_activity import UserActivityController, UserRateLimitsController
from adapters.http.controllers.user_profile import UserProfileController
from domain.accounts import AccountPolicy
from domain.email_policy import EmailPolicy
from domain.services.activity_queries import ActivityLog, ActivityStatistics
from domain.services.auth_attempts import LOGIN, PASSWORD_RESET, REGISTER, CheckAuthAttempts
from domain.services.issue_api_key import IssueApiKey
from domain.services.open_account import OpenAccount
from domain.services.own_keys import CreateOwnKey, ListOwnKeys, RevokeOwnKey, RotateOwnKey
from domain.services.password_login import PasswordLogin
from domain.services.password_reset import RequestPasswordReset, ResetPassword
from domain.services.privy_login import PrivyLogin
from domain.services.profile import DeleteAccount, ShowProfile, UpdateProfile
from domain.services.rate_limit_view import ShowRateLimits
from domain.services.register_user import RegisterUser


def account_policy(settings: object) -> AccountPolicy:
    a = settings.accounts  # type: ignore[attr-defined]
    return AccountPolicy(
        new_user_credits=a.new_user_credits, trial_duration_days=a.trial_duration_days,
        login_key_ttl_days=a.login_key_ttl_days, login_keys_per_user=a.login_keys_per_user,
        max_keys_per_user=a.max_keys_per_user, reset_token_ttl_s=a.password_reset_token_ttl_s,
        public_app_url=a.public_app_url, failed_logins_per_email=a.failed_logins_per_email,
        resets_per_email=a.resets_per_email)


def attempt_limits(settings: object) -> dict[str, tuple[int, float]]:
    a = settings.accounts  # type: ignore[attr-defined]
    return {LOGIN: a.login_limit, REGISTER: a.register_limit, PASSWORD_RESET: a.password_reset_limit}


class AccountsArea(containers.DeclarativeContainer):
    settings = providers.Dependency()
    uow = providers.Dependency()
    clock = providers.Dependency()
    ids = providers.Dependency()
    key_secret = providers.Dependency()
    bus = providers.Dependency()
    hasher = providers.Dependency()
    privy_verifier = providers.Dependency()
    notifier = providers.Dependency()
    attempts = providers.Dependency()
    activity_queries = providers.Dependency()
    rate_limiter = providers.Dependency()
    limit_configs = providers.Dependency()
    admission = providers.Dependency()

    policy = providers.Singleton(account_policy, settings)
    email_policy = providers.Singleton(
        EmailPolicy, providers.Callable(lambda s: s.accounts.blocked_email_domains, settings))
    issue_api_key = providers.Singleton(IssueApiKey, uow, clock, ids, key_secret)
    open_account = providers.Singleton(OpenAccount, policy)
    check_attempts = providers.Singleton(CheckAuthAttempts, attempts, clock,
                                         providers.Callable(attempt_limits, settings))
    register_user = providers.Singleton(RegisterUser, uow, clock, issue_api_key, open_account, email_policy, hasher,
                                        notifier)
    password_login = providers.Singleton(PasswordLogin, uow, clock, issue_api_key, hasher, attempts, bus, policy)
    privy_login = providers.Singleton(PrivyLogin, uow, clock, privy_verifier, issue_api_key, open_account,
                                      email_policy, bus, policy, notifier)
    request_password_reset = providers.Singleton(RequestPasswordReset, uow, clock, notifier, attempts, policy)
    reset_password = providers.Singleton(ResetPassword, uow, clock, hasher, notifier, bus)
    list_own_keys = providers.Singleton(ListOwnKeys, uow)
    create_own_key = providers.Singleton(CreateOwnKey, uow, clock, issue_api_key, policy)
    rotate_own_key = providers.Singleton(RotateOwnKey, uow, clock, issue_api_key, bus)
    revoke_own_key = providers.Singleton(RevokeOwnKey, uow, clock, bus)
    show_profile = providers.Singleton(ShowProfile, uow)
    update_profile = providers.Singleton(UpdateProfile, uow, clock, bus, notifier)
    delete_account = providers.Singleton(DeleteAccount, uow, clock, bus)
    activity_log = providers.Singleton(ActivityLog, activity_queries)
    activity_stats = providers.Singleton(ActivityStatistics, activity_queries, clock)
    show_rate_limits = providers.Singleton(ShowRateLimits, uow, rate_limiter, limit_configs,
                                           admission.provided.limits, clock)
    bundle = providers.Singleton(AccountsServices, check_attempts, register_user, password_login, privy_login,
                                 request_password_reset, reset_password, list_own_keys, create_own_key,
                                 rotate_own_key, revoke_own_key, show_profile, update_profile, delete_account,
                                 activity_log, activity_stats, show_rate_limits)


HTTP = Area("accounts", [AuthController, OwnKeysController, UserProfileController, UserActivityController,
                         UserRateLimitsController])
