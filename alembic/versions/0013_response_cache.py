"""The response cache: chat_completion_requests.metadata (JSON), where a request row records whether
the cache served it (`butter_cache_hit`) and what the original answer cost (`actual_cost_usd`), the
seed's keys, which the cache analytics read.

Revision ID: 0013_response_cache
Revises: 0012_error_monitoring
Create Date: 2026-12-04
"""
import sqlalchemy as sa

from alembic import op

revision = "0013_response_cache"
down_revision = "0012_error_monitoring"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("chat_completion_requests", sa.Column("metadata", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chat_completion_requests") as batch:
        batch.drop_column("metadata")
