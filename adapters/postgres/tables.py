"""The schema, as SQLAlchemy Core tables; alembic/versions holds its history."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
    true,
)
from sqlalchemy.dialects import postgresql

from adapters.postgres.types import Money, UtcDateTime

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identities.
Id = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

users = Table(
    "users", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(100), nullable=False),
    Column("email", String(254), nullable=False, unique=True),
    Column("role", String(16), nullable=False, server_default="user"),
    Column("subscription_allowance", Money, nullable=False, server_default="0"),
    Column("purchased_credits", Money, nullable=False, server_default="0"),
    Column("is_active", Boolean, nullable=False, server_default=true()),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # accounts (migration 0010): identity, trial, referral, preferences
    Column("privy_user_id", String(255), unique=True),
    Column("display_name", String(100)),
    Column("phone_number", String(32)),
    Column("auth_method", String(16), nullable=False, server_default="email"),
    Column("password_hash", String(255)),
    Column("deleted_at", UtcDateTime),
    Column("subscription_status", String(16), nullable=False, server_default="active"),
    Column("tier", String(16), nullable=False, server_default="basic"),
    Column("trial_started_at", UtcDateTime),
    Column("trial_expires_at", UtcDateTime),
    Column("trial_credits", Money),
    Column("trial_converted_at", UtcDateTime),
    Column("referral_code", String(8), unique=True),
    Column("referred_by_code", String(8)),
    Column("preferences", JSON, nullable=False, server_default="{}"),
    Column("welcome_email_sent", Boolean, nullable=False, server_default=false()),
)

api_keys = Table(
    "api_keys", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("last4", String(4), nullable=False),
    Column("name", String(100), nullable=False, server_default="default"),
    Column("environment", String(16), nullable=False, server_default="live"),
    Column("is_active", Boolean, nullable=False, server_default=true()),
    Column("expires_at", UtcDateTime),
    Column("last_used_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    # accounts (migration 0010): kinds, scopes, restrictions, rotation grace
    Column("kind", String(16), nullable=False, server_default="standard"),
    Column("is_primary", Boolean, nullable=False, server_default=false()),
    Column("scopes", JSON, nullable=False, server_default='["inference", "account"]'),
    Column("ip_allowlist", JSON, nullable=False, server_default="[]"),
    Column("domain_referrers", JSON, nullable=False, server_default="[]"),
    Column("previous_key_hash", String(64), unique=True),
    Column("previous_valid_until", UtcDateTime),
    Column("rotated_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
)

credit_transactions = Table(
    "credit_transactions", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("amount", Money, nullable=False),
    Column("transaction_type", String(32), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("balance_before", Money, nullable=False),
    Column("balance_after", Money, nullable=False),
    Column("request_id", String(64), unique=True),
    Column("created_by", String(254)),
    Column("metadata", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_credit_transactions_user_created", "user_id", "created_at"),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_type", String(64), nullable=False, index=True),
    Column("user_id", Id),
    Column("api_key_id", Id),
    Column("details", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("request_id", String(64)),  # events about one request: at most one per (event_type, request_id)
    UniqueConstraint("event_type", "request_id", name="uq_audit_log_event_type_request_id"),
)

chat_completion_requests = Table(
    "chat_completion_requests", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("request_id", String(64), nullable=False, unique=True),
    Column("client_request_id", String(128), index=True),  # the client's X-Request-Id, sanitised
    Column("user_id", Id, index=True),
    Column("api_key_id", Id),
    Column("model", String(200), nullable=False),
    Column("provider", String(64)),
    Column("operation", String(16), nullable=False, server_default="chat"),
    Column("input_tokens", Integer, nullable=False, server_default="0"),
    Column("output_tokens", Integer, nullable=False, server_default="0"),
    Column("processing_time_ms", Integer, nullable=False, server_default="0"),
    Column("time_to_first_token_ms", Integer),
    Column("status", String(16), nullable=False),
    Column("error_message", Text),
    Column("cost_usd", Money),
    Column("is_anonymous", Boolean, nullable=False, server_default=false()),
    Column("usage_estimated", Boolean, nullable=False, server_default=false()),
    Column("created_at", UtcDateTime, nullable=False, index=True),
)

# The catalog: rows are upserted by `gatewayz catalog load`, never deleted (models absent from the file
# are deactivated); offers and aliases are replaced whole on every load.
providers = Table(
    "providers", metadata,
    Column("slug", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("base_url", Text, nullable=False),
    Column("api_key_env", String(128), nullable=False),
    Column("is_active", Boolean, nullable=False, server_default=true()),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("kind IN ('openai', 'anthropic')", name="kind"),
)

models = Table(
    "models", metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("context_length", Integer, nullable=False),
    Column("max_output_tokens", Integer, nullable=False),
    Column("is_active", Boolean, nullable=False, server_default=true(), index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

model_offers = Table(
    "model_offers", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("model_id", Text, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("provider_slug", String(64), ForeignKey("providers.slug"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("native_id", Text, nullable=False),
    Column("input_per_mtok", Money),
    Column("output_per_mtok", Money),
    UniqueConstraint("model_id", "provider_slug"),
)

model_aliases = Table(
    "model_aliases", metadata,
    Column("alias", Text, primary_key=True),
    Column("model_id", Text, ForeignKey("models.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("position", Integer, nullable=False, server_default="0"),
)

# Per-key rate limit overrides (#1624): a NULL column means "the gateway default".
rate_limit_configs = Table(
    "rate_limit_configs", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("api_key_id", Id, ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("requests_per_minute", Integer),
    Column("requests_per_hour", Integer),
    Column("requests_per_day", Integer),
    Column("tokens_per_minute", BigInteger),
    Column("tokens_per_hour", BigInteger),
    Column("tokens_per_day", BigInteger),
    Column("concurrent_requests", Integer),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Coupons (#1717-#1726): codes stored upper-case, so the unique index is case-insensitive by construction.
# times_used only moves by a conditional increment (never past max_uses); one redemption per user.
coupons = Table(
    "coupons", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(50), nullable=False, unique=True),
    Column("value_usd", Money, nullable=False),
    Column("coupon_scope", String(16), nullable=False),
    Column("coupon_type", String(16), nullable=False, server_default="promotional"),
    Column("max_uses", Integer, nullable=False),
    Column("times_used", Integer, nullable=False, server_default="0"),
    Column("valid_from", UtcDateTime, nullable=False),
    Column("valid_until", UtcDateTime, nullable=False),
    Column("is_active", Boolean, nullable=False, server_default=true()),
    Column("assigned_to_user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), index=True),
    Column("created_by", Id, ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_by_type", String(16), nullable=False, server_default="admin"),
    Column("description", String(500)),
    Column("created_at", UtcDateTime, nullable=False, index=True),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("code = upper(code)", name="code_upper"),
    CheckConstraint("coupon_scope IN ('user_specific', 'global')", name="scope"),
    CheckConstraint("coupon_type IN ('promotional', 'referral', 'compensation', 'partnership')", name="type"),
    CheckConstraint("created_by_type IN ('admin', 'system')", name="created_by_type"),
    CheckConstraint("max_uses > 0 AND times_used >= 0 AND times_used <= max_uses", name="uses"),
    CheckConstraint("(coupon_scope = 'global' AND assigned_to_user_id IS NULL) OR "
                    "(coupon_scope = 'user_specific' AND assigned_to_user_id IS NOT NULL AND max_uses = 1)",
                    name="assignment"),
)

coupon_redemptions = Table(
    "coupon_redemptions", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("coupon_id", Id, ForeignKey("coupons.id"), nullable=False),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("value_applied", Money, nullable=False),
    Column("user_balance_before", Money, nullable=False),
    Column("user_balance_after", Money, nullable=False),
    Column("transaction_id", Id, ForeignKey("credit_transactions.id", ondelete="SET NULL")),
    Column("ip_address", String(64)),
    Column("user_agent", String(500)),
    Column("redeemed_at", UtcDateTime, nullable=False),
    UniqueConstraint("coupon_id", "user_id"),
    Index("ix_coupon_redemptions_user_redeemed", "user_id", "redeemed_at"),
)

# Idempotency-Key of credit writes (#1727-#1732): claimed in the write's own transaction, result stored
# with it; (scope, key) unique, scope = operation + caller.
idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("scope", String(200), nullable=False),
    Column("key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("status", Integer, nullable=False, server_default="0"),
    Column("body", JSON),
    Column("created_at", UtcDateTime, nullable=False, index=True),
    UniqueConstraint("scope", "key"),
)

# The rolling 24-hour admin grant total sums an admin's rows by created_by.
Index("ix_credit_transactions_created_by_created_at", credit_transactions.c.created_by,
      credit_transactions.c.created_at)

# --- Chat history (#1691-#1707) ---------------------------------------------------------------------
# Sessions own their messages (no user_id on messages: ownership goes through the session); sessions are
# soft-deleted. On PostgreSQL the migration adds pg_trgm GIN indexes on title and content for search.
chat_sessions = Table(
    "chat_sessions", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("title", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("is_active", Boolean, nullable=False, server_default=true()),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
Index("ix_chat_sessions_user_active_updated", chat_sessions.c.user_id, chat_sessions.c.is_active,
      chat_sessions.c.updated_at.desc())

chat_messages = Table(
    "chat_messages", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("session_id", Id, ForeignKey("chat_sessions.id", ondelete="CASCADE"), nullable=False),
    Column("role", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("model", Text),
    Column("tokens", Integer, nullable=False, server_default="0"),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_chat_messages_session_created", "session_id", "created_at", "id"),
)

message_feedback = Table(
    "message_feedback", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("session_id", Id, ForeignKey("chat_sessions.id", ondelete="SET NULL")),
    Column("message_id", Id, ForeignKey("chat_messages.id", ondelete="SET NULL")),
    Column("feedback_type", Text, nullable=False),
    Column("rating", Integer),
    Column("comment", Text),
    Column("model", Text),
    Column("metadata", JSON),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("feedback_type IN ('thumbs_up', 'thumbs_down', 'regenerate')", name="feedback_type"),
    CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating"),
    Index("ix_message_feedback_session_id", "session_id"),
)
Index("ix_message_feedback_user_created", message_feedback.c.user_id, message_feedback.c.created_at.desc())

# The catalog's models are keyed by text ids; the public throughput metrics address a model by an
# integer. This table gives each canonical model one (assigned the first time a request row names it,
# and for every model present when migration 0009 ran), and request rows carry it as model_id.
model_numbers = Table(
    "model_numbers", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("model_id", Text, ForeignKey("models.id", ondelete="CASCADE"), nullable=False, unique=True),
)
chat_completion_requests.append_column(
    Column("model_id", Id, ForeignKey("model_numbers.id", ondelete="SET NULL")))
Index("ix_chat_completion_requests_model_provider_status_created", chat_completion_requests.c.model_id,
      chat_completion_requests.c.provider, chat_completion_requests.c.status, chat_completion_requests.c.created_at)

# Accounts (migration 0010): email and username unique case-insensitively, decided by the database;
# reset tokens stored as their SHA-256 only.
Index("ux_users_email_ci", func.lower(users.c.email), unique=True)
Index("ux_users_username_ci", func.lower(users.c.username), unique=True)

password_reset_tokens = Table(
    "password_reset_tokens", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("requester_ip", String(64)),
)

# issue 16, the response cache: what a request row says about it (the seed's `butter_cache_hit`,
# `actual_cost_usd`), read by the cache analytics
chat_completion_requests.append_column(Column("metadata", JSON))

# --- incidents and error monitoring (issue 15) ---------------------------------------------------
# UUIDs: native on PostgreSQL, text on SQLite.
UuidText = String(36).with_variant(postgresql.UUID(as_uuid=False), "postgresql")

downtime_incidents = Table(
    "downtime_incidents", metadata,
    Column("id", UuidText, primary_key=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("detected_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime),
    Column("duration_seconds", Integer),
    Column("health_endpoint", String(200)),
    Column("error_message", Text),
    Column("http_status_code", Integer),
    Column("response_body", Text),
    Column("status", String(16), nullable=False, server_default="ongoing"),
    Column("severity", String(16), nullable=False, server_default="high"),
    Column("environment", String(64), nullable=False, server_default="development"),
    Column("logs_captured", JSON),
    Column("log_count", Integer, nullable=False, server_default="0"),
    Column("logs_file_path", String(500)),
    Column("resolved_by", String(320)),
    Column("notes", Text),
    Column("server_info", JSON),
    Column("metrics_snapshot", JSON),
    Column("check", String(16), nullable=False, server_default="manual"),
    Column("capture_due_at", UtcDateTime),
    CheckConstraint("status IN ('ongoing', 'investigating', 'resolved')", name="status"),
    CheckConstraint("severity IN ('low', 'medium', 'high', 'critical')", name="severity"),
    CheckConstraint("\"check\" IN ('database', 'redis', 'providers', 'manual')", name="check"),
    Index("ix_downtime_incidents_status_started", "status", text("started_at DESC")),
    Index("ix_downtime_incidents_started", "started_at"),
    # never two ongoing incidents of one check, whichever process opens them
    Index("uq_downtime_incidents_ongoing_check", "check", unique=True,
          postgresql_where=text("status = 'ongoing' AND \"check\" <> 'manual'"),
          sqlite_where=text("status = 'ongoing' AND \"check\" <> 'manual'")),
)

error_patterns = Table(
    "error_patterns", metadata,
    Column("key", String(400), primary_key=True),
    Column("category", String(32), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("error_type", String(200), nullable=False),
    Column("message", Text, nullable=False),
    Column("file", String(500)),
    Column("line", Integer),
    Column("function", String(200)),
    Column("stack_trace", Text),
    Column("first_seen", UtcDateTime, nullable=False),
    Column("last_seen", UtcDateTime, nullable=False, index=True),
    Column("count", BigInteger, nullable=False, server_default="1"),
    Column("examples", JSON, nullable=False),
    Column("fixable", Boolean, nullable=False, server_default=false()),
    Column("suggested_fix", Text),
    Index("ix_error_patterns_error_type", "error_type"),
)

# one row (id 1): the scan loop's desired state, so every process and every restart agrees
error_monitor_state = Table(
    "error_monitor_state", metadata,
    Column("id", Integer, primary_key=True),
    Column("enabled", Boolean, nullable=False, server_default=false()),
    Column("interval_s", Integer, nullable=False, server_default="300"),
    Column("auto_fix", Boolean, nullable=False, server_default=false()),
    Column("last_scan", UtcDateTime),
    Column("cursor_ns", BigInteger),
    Column("cursor_hashes", JSON),
    Column("errors_since_last_fix", BigInteger, nullable=False, server_default="0"),
)

generated_fixes = Table(
    "generated_fixes", metadata,
    Column("id", UuidText, primary_key=True),
    Column("error_pattern_id", String(400), nullable=False, index=True),
    Column("error_message", Text, nullable=False),
    Column("error_category", String(32), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("generated_at", UtcDateTime, nullable=False, index=True),
    Column("analysis", Text, nullable=False, server_default=""),
    Column("proposed_fix", Text, nullable=False, server_default=""),
    Column("code_changes", JSON, nullable=False),
    Column("files_affected", JSON, nullable=False),
    Column("pr_url", String(500)),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("pr_number", Integer),
    Column("branch", String(200)),
    Column("error", Text),
    Column("model", String(100)),
    Column("input_tokens", Integer),
    Column("output_tokens", Integer),
    CheckConstraint("status IN ('pending', 'testing', 'merged', 'failed')", name="status"),
)
