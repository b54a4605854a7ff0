"""The schema, as SQLAlchemy Core tables; alembic/versions holds its history."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    true,
)

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
)
