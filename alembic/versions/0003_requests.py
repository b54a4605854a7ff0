"""chat_completion_requests: one row per inference request.

Revision ID: 0003_requests
Revises: 0002_catalog
Create Date: 2026-11-27
"""
import sqlalchemy as sa

from adapters.postgres.types import Money, UtcDateTime
from alembic import op

revision = "0003_requests"
down_revision = "0002_catalog"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "chat_completion_requests",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("user_id", Id),
        sa.Column("api_key_id", Id),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("provider", sa.String(64)),
        sa.Column("operation", sa.String(16), nullable=False, server_default="chat"),
        sa.Column("input_tokens", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("output_tokens", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("processing_time_ms", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("time_to_first_token_ms", sa.Integer()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_message", sa.Text()),
        sa.Column("cost_usd", Money()),
        sa.Column("is_anonymous", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("usage_estimated", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_chat_completion_requests"),
        sa.UniqueConstraint("request_id", name="uq_chat_completion_requests_request_id"),
        sa.CheckConstraint("status IN ('completed', 'failed')", name="ck_chat_completion_requests_status"),
    )
    op.create_index("ix_chat_completion_requests_user_id", "chat_completion_requests", ["user_id"])
    op.create_index("ix_chat_completion_requests_created_at", "chat_completion_requests", ["created_at"])


def downgrade() -> None:
    op.drop_table("chat_completion_requests")
