"""rate_limit_configs: per-key rate limit overrides (NULL = the gateway default).

Revision ID: 0004_rate_limits
Revises: 0003_requests
Create Date: 2026-11-28
"""
import sqlalchemy as sa

from adapters.postgres.types import UtcDateTime
from alembic import op

revision = "0004_rate_limits"
down_revision = "0003_requests"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "rate_limit_configs",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("api_key_id", Id, nullable=False),
        sa.Column("requests_per_minute", sa.Integer()),
        sa.Column("requests_per_hour", sa.Integer()),
        sa.Column("requests_per_day", sa.Integer()),
        sa.Column("tokens_per_minute", sa.BigInteger()),
        sa.Column("tokens_per_hour", sa.BigInteger()),
        sa.Column("tokens_per_day", sa.BigInteger()),
        sa.Column("concurrent_requests", sa.Integer()),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rate_limit_configs"),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_keys.id"], ondelete="CASCADE",
                                name="fk_rate_limit_configs_api_key_id_api_keys"),
        sa.UniqueConstraint("api_key_id", name="uq_rate_limit_configs_api_key_id"),
    )


def downgrade() -> None:
    op.drop_table("rate_limit_configs")
