"""Accounts: identity, trial and referral columns on users; kinds, scopes, restrictions and rotation
grace on api_keys; password_reset_tokens; email and username unique case-insensitively.

Revision ID: 0010_accounts
Revises: 0009_chat_history
Create Date: 2026-12-04
"""
import secrets

import sqlalchemy as sa

from adapters.postgres.types import Money, UtcDateTime
from alembic import op

revision = "0010_accounts"
down_revision = "0009_chat_history"
branch_labels = None
depends_on = None

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_UTC = UtcDateTime()


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("privy_user_id", sa.String(255)))
        batch.add_column(sa.Column("display_name", sa.String(100)))
        batch.add_column(sa.Column("phone_number", sa.String(32)))
        batch.add_column(sa.Column("auth_method", sa.String(16), nullable=False, server_default="email"))
        batch.add_column(sa.Column("password_hash", sa.String(255)))
        batch.add_column(sa.Column("deleted_at", _UTC))
        batch.add_column(sa.Column("subscription_status", sa.String(16), nullable=False, server_default="active"))
        batch.add_column(sa.Column("tier", sa.String(16), nullable=False, server_default="basic"))
        batch.add_column(sa.Column("trial_started_at", _UTC))
        batch.add_column(sa.Column("trial_expires_at", _UTC))
        batch.add_column(sa.Column("trial_credits", Money()))
        batch.add_column(sa.Column("trial_converted_at", _UTC))
        batch.add_column(sa.Column("referral_code", sa.String(8)))
        batch.add_column(sa.Column("referred_by_code", sa.String(8)))
        batch.add_column(sa.Column("preferences", sa.JSON, nullable=False, server_default="{}"))
        batch.add_column(sa.Column("welcome_email_sent", sa.Boolean, nullable=False, server_default=sa.false()))
    conn = op.get_bind()
    # Usernames were never unique: the older duplicates (case-insensitively) get their id appended.
    conn.execute(sa.text(
        "UPDATE users SET username = username || '_' || CAST(id AS VARCHAR(20)) "
        "WHERE id NOT IN (SELECT MIN(id) FROM users GROUP BY lower(username))"))
    for (user_id,) in conn.execute(sa.text("SELECT id FROM users")).all():
        code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
        conn.execute(sa.text("UPDATE users SET referral_code = :c WHERE id = :i"), {"c": code, "i": user_id})
    with op.batch_alter_table("users") as batch:
        batch.create_unique_constraint("uq_users_privy_user_id", ["privy_user_id"])
        batch.create_unique_constraint("uq_users_referral_code", ["referral_code"])

    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="standard"))
        batch.add_column(sa.Column("is_primary", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("scopes", sa.JSON, nullable=False, server_default='["inference", "account"]'))
        batch.add_column(sa.Column("ip_allowlist", sa.JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("domain_referrers", sa.JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("previous_key_hash", sa.String(64)))
        batch.add_column(sa.Column("previous_valid_until", _UTC))
        batch.add_column(sa.Column("rotated_at", _UTC))
        batch.add_column(sa.Column("revoked_at", _UTC))
        batch.create_unique_constraint("uq_api_keys_previous_key_hash", ["previous_key_hash"])

    op.create_table(
        "password_reset_tokens",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_password_reset_tokens_user_id_users"),
                  nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", _UTC, nullable=False),
        sa.Column("used_at", _UTC),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("requester_ip", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_password_reset_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_password_reset_tokens_token_hash"),
    )
    op.create_index("ix_password_reset_tokens_user_id", "password_reset_tokens", ["user_id"])
    # Last: SQLite's batch mode recreates tables and cannot reflect expression indexes.
    op.create_index("ux_users_email_ci", "users", [sa.text("lower(email)")], unique=True)
    op.create_index("ux_users_username_ci", "users", [sa.text("lower(username)")], unique=True)


def downgrade() -> None:
    op.drop_index("ux_users_username_ci", table_name="users")  # first: SQLite's batch mode cannot reflect them
    op.drop_index("ux_users_email_ci", table_name="users")
    op.drop_index("ix_password_reset_tokens_user_id", table_name="password_reset_tokens")
    op.drop_table("password_reset_tokens")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_constraint("uq_api_keys_previous_key_hash", type_="unique")
        for name in ("revoked_at", "rotated_at", "previous_valid_until", "previous_key_hash", "domain_referrers",
                     "ip_allowlist", "scopes", "is_primary", "kind"):
            batch.drop_column(name)
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_referral_code", type_="unique")
        batch.drop_constraint("uq_users_privy_user_id", type_="unique")
        for name in ("welcome_email_sent", "preferences", "referred_by_code", "referral_code", "trial_converted_at",
                     "trial_credits", "trial_expires_at", "trial_started_at", "tier", "subscription_status",
                     "deleted_at", "password_hash", "auth_method", "phone_number", "display_name",
                     "privy_user_id"):
            batch.drop_column(name)
