"""Settings: one frozen object built from the environment once, by the entry point."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import msgspec

from domain.admin import PROTECTED_EMAIL_DOMAINS
from domain.limits import ANONYMOUS_LIMITS, DEFAULT_LIMITS, LimitConfig

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./gatewayz.db"


class SettingsError(ValueError):
    """A variable is set to something unusable; the message names it."""


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def env_int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc
    if value < minimum:
        raise SettingsError(f"{name} must be >= {minimum}, got {value}")
    return value


def env_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from exc
    if not math.isfinite(value) or value < 0:
        raise SettingsError(f"{name} must be a finite number >= 0, got {raw!r}")
    return value


def _decimal(env: Mapping[str, str], name: str, default: str) -> Decimal:
    raw = env.get(name) or default
    try:
        value = Decimal(raw)
    except ArithmeticError as exc:
        raise SettingsError(f"{name} must be a decimal amount, got {raw!r}") from exc
    if not value.is_finite() or value < 0:
        raise SettingsError(f"{name} must be a non-negative amount, got {raw!r}")
    return value


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in env.get(name, "").split(",") if s.strip())


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    redis_prefix: str = "gatewayz:"
    admin_api_key: str | None = None
    protected_email_domains: tuple[str, ...] = PROTECTED_EMAIL_DOMAINS
    catalog_cache_ttl_s: int = 1800
    hf_endpoint: str | None = None  # None: huggingface_hub's default (huggingface.co)
    hug_api_key: str | None = None
    hf_timeout_s: float = 10.0
    admin_max_credit_grant: Decimal = Decimal(1000)
    admin_daily_grant_limit: Decimal = Decimal(5000)
    key_secret: str | None = None
    key_secret_file: str = ".gatewayz/key_secret"
    log_level: str = "INFO"
    log_format: str = "json"
    environment: str = "development"
    key_cache_ttl_s: float = 30.0
    db_pool_size: int = 10
    anonymous_allowed_models: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    catalog_file: str | None = None
    pricing_markup: Decimal = Decimal(1)
    hold_ttl_s: float = 900.0  # a crashed process's holds lapse after this long
    settlement_claim_idle_s: float = 15.0  # journal entries a process left unacknowledged this long are taken over
    settlement_sweep_s: float = 5.0  # how often each process journals holds that lapsed unsettled
    upstream_connect_timeout_s: float = 5.0
    upstream_read_timeout_s: float = 120.0  # longest gap between reads of an answer
    upstream_first_byte_timeout_s: float = 60.0  # longest wait for an answer to begin
    admission: AdmissionSettings = field(default_factory=lambda: AdmissionSettings())
    monitoring: MonitoringSettings = field(default_factory=lambda: MonitoringSettings())
    accounts: AccountSettings = field(default_factory=lambda: AccountSettings())
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_embedded(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        log_format = env.get("LOG_FORMAT", "json").lower()
        if log_format not in ("json", "console"):
            raise SettingsError(f"LOG_FORMAT must be json or console, got {log_format!r}")
        log_level = env.get("LOG_LEVEL", "INFO").upper()
        if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise SettingsError(f"LOG_LEVEL must be a logging level name, got {log_level!r}")
        settings = cls(
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            redis_url=env.get("REDIS_URL") or None,
            redis_prefix=env.get("REDIS_PREFIX", "gatewayz:"),
            admin_api_key=env.get("ADMIN_API_KEY") or None,
            protected_email_domains=_list(env, "PROTECTED_EMAIL_DOMAINS") or PROTECTED_EMAIL_DOMAINS,
            catalog_cache_ttl_s=int(env.get("CATALOG_CACHE_TTL") or 1800),
            hf_endpoint=env.get("HF_ENDPOINT") or None, hug_api_key=env.get("HUG_API_KEY") or None,
            hf_timeout_s=float(env.get("HF_TIMEOUT_SECONDS") or 10),
            admin_max_credit_grant=_decimal(env, "ADMIN_MAX_CREDIT_GRANT", "1000"),
            admin_daily_grant_limit=_decimal(env, "ADMIN_DAILY_GRANT_LIMIT", "5000"),
            key_secret=env.get("GATEWAYZ_KEY_SECRET") or None,
            key_secret_file=env.get("GATEWAYZ_KEY_SECRET_FILE", ".gatewayz/key_secret"),
            log_level=log_level,
            log_format=log_format,
            environment=env.get("APP_ENV", env.get("ENVIRONMENT", "development")),
            key_cache_ttl_s=env_float(env, "KEY_CACHE_TTL_SECONDS", 30.0),
            db_pool_size=env_int(env, "DB_POOL_SIZE", 10, minimum=1),
            anonymous_allowed_models=_list(env, "ANONYMOUS_ALLOWED_MODELS"),
            trusted_proxies=_list(env, "TRUSTED_PROXIES"),
            catalog_file=env.get("GATEWAYZ_CATALOG_FILE") or None,
            pricing_markup=_decimal(env, "PRICING_MARKUP", "1.0"),
            hold_ttl_s=env_float(env, "HOLD_TTL_SECONDS", 900.0),
            settlement_claim_idle_s=env_float(env, "SETTLEMENT_CLAIM_IDLE_SECONDS", 15.0),
            settlement_sweep_s=env_float(env, "SETTLEMENT_SWEEP_SECONDS", 5.0),
            upstream_connect_timeout_s=env_float(env, "UPSTREAM_CONNECT_TIMEOUT_S", 5.0),
            upstream_read_timeout_s=env_float(env, "UPSTREAM_READ_TIMEOUT_S", 120.0),
            upstream_first_byte_timeout_s=env_float(env, "UPSTREAM_FIRST_BYTE_TIMEOUT_S", 60.0),
            admission=AdmissionSettings.from_env(env),
            monitoring=MonitoringSettings.from_env(env),
            accounts=AccountSettings.from_env(env, embedded=(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
                                              .startswith("sqlite")),
            env=env,
        )
        if not settings.is_embedded and not settings.key_secret:
            raise SettingsError("GATEWAYZ_KEY_SECRET is required when DATABASE_URL is not the embedded SQLite")
        return settings


def _limit(env: Mapping[str, str], name: str, default: int | None) -> int | None:
    """A rate limit: unset keeps the default, 0 turns the scope off."""
    value = env_int(env, name, default if default is not None else 0)
    return value or None


@dataclass(frozen=True, slots=True)
class AdmissionSettings:
    """Rate limits (#1689), the Redis failure policy, anonymous limits, the concurrency gate (#1734)."""

    limits: LimitConfig = DEFAULT_LIMITS
    anonymous_limits: LimitConfig = ANONYMOUS_LIMITS
    fail_closed: bool = False
    lease_ttl_s: float = 300.0          # a dead process's concurrency slots free themselves after this
    redis_timeout_s: float = 0.5
    config_cache_ttl_s: float = 60.0    # safety net only: changes are broadcast
    default_output_tokens: int = 1024   # token estimate for a request without max_tokens
    anonymous_ip_salt: str | None = None  # default: derived from the key secret
    concurrency_limit: int = 200        # 0 turns the gate off
    concurrency_queue_size: int = 500
    concurrency_queue_timeout_s: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AdmissionSettings:
        d, anon = DEFAULT_LIMITS, ANONYMOUS_LIMITS
        limits = LimitConfig(**{
            scope: _limit(env, f"RATE_LIMIT_{scope.upper()}", getattr(d, scope)) for scope in d.__struct_fields__})
        anonymous = msgspec.structs.replace(
            anon, requests_per_minute=_limit(env, "ANONYMOUS_RATE_LIMIT_PER_MINUTE", anon.requests_per_minute),
            requests_per_day=_limit(env, "ANONYMOUS_RATE_LIMIT_PER_DAY", anon.requests_per_day))
        lease_ttl = env_float(env, "RATE_LIMIT_LEASE_TTL_SECONDS", 300.0)
        timeout = env_float(env, "RATE_LIMIT_REDIS_TIMEOUT_SECONDS", 0.5)
        if lease_ttl <= 0 or timeout <= 0:
            raise SettingsError("RATE_LIMIT_LEASE_TTL_SECONDS and RATE_LIMIT_REDIS_TIMEOUT_SECONDS must be > 0")
        return cls(
            limits=limits, anonymous_limits=anonymous,
            fail_closed=env_bool(env, "RATE_LIMIT_FAIL_CLOSED", False),
            lease_ttl_s=lease_ttl, redis_timeout_s=timeout,
            config_cache_ttl_s=env_float(env, "RATE_LIMIT_CONFIG_CACHE_TTL_SECONDS", 60.0),
            default_output_tokens=env_int(env, "RATE_LIMIT_DEFAULT_OUTPUT_TOKENS", 1024),
            anonymous_ip_salt=env.get("ANONYMOUS_IP_SALT") or None,
            concurrency_limit=env_int(env, "CONCURRENCY_LIMIT", 200),
            concurrency_queue_size=env_int(env, "CONCURRENCY_QUEUE_SIZE", 500),
            concurrency_queue_timeout_s=env_float(env, "CONCURRENCY_QUEUE_TIMEOUT", 10.0),
        )


@dataclass(frozen=True, slots=True)
class MonitoringSettings:
    """The monitoring loop, incident detection, Loki and error monitoring (issue 15)."""

    enabled: bool = True                 # MONITORING_ENABLED: false runs no monitoring loop in this process
    environment: str = "development"     # GATEWAYZ_ENVIRONMENT, recorded on incidents
    incident_check_interval_s: float = 30.0
    incident_open_after: int = 3
    incident_resolve_after: int = 3
    capture_interval_s: float = 15.0     # how often due log captures are looked for
    loki_enabled: bool = False
    loki_query_url: str | None = None
    loki_username: str | None = None
    loki_api_key: str | None = None
    loki_tenant_id: str | None = None
    loki_max_entries_per_query: int = 5000
    loki_timeout_s: float = 30.0
    loki_incident_query: str = '{app="gatewayz-api"}'
    loki_error_query: str = '{level="ERROR"}'
    alert_emails: tuple[str, ...] = ()
    error_monitor_autostart: bool = False
    error_monitor_auto_fix: bool = False
    error_monitor_max_fixes_per_hour: int = 10
    error_monitor_allowed_paths: tuple[str, ...] = ("adapters/", "domain/", "ports/", "gatewayz/")
    anthropic_api_key: str | None = field(default=None, repr=False)
    anthropic_base_url: str | None = None
    anthropic_model: str = "claude-3-5-sonnet-20241022"
    github_token: str | None = field(default=None, repr=False)
    github_repository: str | None = None
    github_base_branch: str = "main"
    github_api_url: str = "https://api.github.com"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MonitoringSettings:
        url = env.get("LOKI_QUERY_URL") or None
        return cls(
            enabled=env_bool(env, "MONITORING_ENABLED", True),
            environment=env.get("GATEWAYZ_ENVIRONMENT") or "development",
            incident_check_interval_s=env_float(env, "INCIDENT_CHECK_INTERVAL", 30.0) or 30.0,
            incident_open_after=env_int(env, "INCIDENT_OPEN_AFTER", 3, minimum=1),
            incident_resolve_after=env_int(env, "INCIDENT_RESOLVE_AFTER", 3, minimum=1),
            capture_interval_s=env_float(env, "INCIDENT_CAPTURE_INTERVAL", 15.0) or 15.0,
            loki_enabled=env_bool(env, "LOKI_ENABLED", url is not None),
            loki_query_url=url,
            loki_username=env.get("GRAFANA_LOKI_USERNAME") or None,
            loki_api_key=env.get("GRAFANA_LOKI_API_KEY") or None,
            loki_tenant_id=env.get("LOKI_TENANT_ID") or None,
            loki_max_entries_per_query=env_int(env, "LOKI_MAX_ENTRIES_PER_QUERY", 5000, minimum=1),
            loki_timeout_s=env_float(env, "LOKI_TIMEOUT_SECONDS", 30.0) or 30.0,
            loki_incident_query=env.get("LOKI_INCIDENT_QUERY") or '{app="gatewayz-api"}',
            loki_error_query=env.get("LOKI_ERROR_QUERY") or '{level="ERROR"}',
            alert_emails=_list(env, "ALERT_EMAILS"),
            error_monitor_autostart=env_bool(env, "ERROR_MONITOR_AUTOSTART", False),
            error_monitor_auto_fix=env_bool(env, "ERROR_MONITOR_AUTO_FIX", False),
            error_monitor_max_fixes_per_hour=env_int(env, "ERROR_MONITOR_MAX_FIXES_PER_HOUR", 10),
            error_monitor_allowed_paths=_list(env, "ERROR_MONITOR_ALLOWED_PATHS")
            or ("adapters/", "domain/", "ports/", "gatewayz/"),
            anthropic_api_key=env.get("ANTHROPIC_API_KEY") or None,
            anthropic_base_url=env.get("ANTHROPIC_BASE_URL") or None,
            anthropic_model=env.get("ANTHROPIC_MODEL") or "claude-3-5-sonnet-20241022",
            github_token=env.get("GITHUB_TOKEN") or None,
            github_repository=env.get("GITHUB_REPOSITORY") or None,
            github_base_branch=env.get("GITHUB_BASE_BRANCH") or "main",
            github_api_url=env.get("GITHUB_API_URL") or "https://api.github.com",
        )


def _rate(env: Mapping[str, str], name: str, default: str) -> tuple[int, float]:
    """`LIMIT/SECONDS`, e.g. 10/900."""
    raw = env.get(name) or default
    count, sep, window = raw.partition("/")
    try:
        parsed = (int(count), float(window))
    except ValueError as exc:
        raise SettingsError(f"{name} must be COUNT/SECONDS (e.g. {default}), got {raw!r}") from exc
    if not sep or parsed[0] < 1 or not math.isfinite(parsed[1]) or parsed[1] <= 0:
        raise SettingsError(f"{name} must be COUNT/SECONDS with both > 0, got {raw!r}")
    return parsed


@dataclass(frozen=True, slots=True)
class AccountSettings:
    """Login, registration, password reset, trials, own keys and the notifier (issue 13)."""

    privy_app_id: str | None = None
    privy_verification_key: str | None = None  # PEM public key
    privy_jwks_url: str | None = None
    privy_jwks_cache_s: float = 3600.0
    blocked_email_domains: tuple[str, ...] = ()
    new_user_credits: Decimal = Decimal("5.00")
    trial_duration_days: int = 3
    login_key_ttl_days: int = 30
    login_keys_per_user: int = 5
    max_keys_per_user: int = 25
    password_reset_token_ttl_s: int = 3600
    public_app_url: str = "http://localhost:3000"
    login_limit: tuple[int, float] = (10, 900.0)
    register_limit: tuple[int, float] = (3, 3600.0)
    password_reset_limit: tuple[int, float] = (3, 3600.0)
    failed_logins_per_email: tuple[int, float] = (10, 3600.0)
    resets_per_email: tuple[int, float] = (3, 3600.0)
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    notifier: str = "log"  # log | smtp
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = True
    email_from: str = "Gatewayz <noreply@gatewayz.local>"

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, embedded: bool = True) -> AccountSettings:
        notifier = (env.get("NOTIFIER") or ("log" if embedded or not env.get("SMTP_HOST") else "smtp")).lower()
        if notifier not in ("log", "smtp"):
            raise SettingsError(f"NOTIFIER must be log or smtp, got {notifier!r}")
        if notifier == "smtp" and not env.get("SMTP_HOST"):
            raise SettingsError("NOTIFIER=smtp needs SMTP_HOST")
        return cls(
            privy_app_id=env.get("PRIVY_APP_ID") or None,
            privy_verification_key=(env.get("PRIVY_VERIFICATION_KEY") or "").replace("\\n", "\n") or None,
            privy_jwks_url=env.get("PRIVY_JWKS_URL") or None,
            blocked_email_domains=_list(env, "BLOCKED_EMAIL_DOMAINS"),
            new_user_credits=_decimal(env, "NEW_USER_CREDITS", "5.00"),
            trial_duration_days=env_int(env, "TRIAL_DURATION_DAYS", 3),
            login_key_ttl_days=env_int(env, "LOGIN_KEY_TTL_DAYS", 30, minimum=1),
            login_keys_per_user=env_int(env, "LOGIN_KEYS_PER_USER", 5, minimum=1),
            max_keys_per_user=env_int(env, "MAX_KEYS_PER_USER", 25, minimum=1),
            password_reset_token_ttl_s=env_int(env, "PASSWORD_RESET_TOKEN_TTL", 3600, minimum=60),
            public_app_url=(env.get("PUBLIC_APP_URL") or "http://localhost:3000").rstrip("/"),
            login_limit=_rate(env, "AUTH_LOGIN_LIMIT", "10/900"),
            register_limit=_rate(env, "AUTH_REGISTER_LIMIT", "3/3600"),
            password_reset_limit=_rate(env, "AUTH_PASSWORD_RESET_LIMIT", "3/3600"),
            failed_logins_per_email=_rate(env, "AUTH_FAILED_LOGINS_PER_EMAIL", "10/3600"),
            resets_per_email=_rate(env, "AUTH_RESETS_PER_EMAIL", "3/3600"),
            argon2_time_cost=env_int(env, "ARGON2_TIME_COST", 3, minimum=1),
            argon2_memory_kib=env_int(env, "ARGON2_MEMORY_KIB", 65536, minimum=8),
            argon2_parallelism=env_int(env, "ARGON2_PARALLELISM", 4, minimum=1),
            notifier=notifier,
            smtp_host=env.get("SMTP_HOST") or None,
            smtp_port=env_int(env, "SMTP_PORT", 587, minimum=1),
            smtp_username=env.get("SMTP_USERNAME") or None,
            smtp_password=env.get("SMTP_PASSWORD") or None,
            smtp_starttls=env_bool(env, "SMTP_STARTTLS", True),
            email_from=env.get("EMAIL_FROM") or "Gatewayz <noreply@gatewayz.local>",
        )
