"""Credits: idempotency_keys for credit writes; credit_transactions(created_by, created_at) for the
rolling daily admin grant total.

Revision ID: 0005_credits
Revises: 0004_rate_limits
Create Date: 2026-11-28
"""
import sqlalchemy as sa

from adapters.postgres.types import UtcDateTime
from alembic import op

revision = "0005_credits"
down_revision = "0004_rate_limits"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("body", sa.JSON()),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_idempotency_keys"),
        sa.UniqueConstraint("scope", "key", name="uq_idempotency_keys_scope"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])
    op.create_index("ix_credit_transactions_created_by_created_at", "credit_transactions",
                    ["created_by", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_credit_transactions_created_by_created_at", table_name="credit_transactions")
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
