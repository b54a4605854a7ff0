"""error_patterns, error_monitor_state and generated_fixes: grouped errors, the scan loop's desired
state and the proposed fixes, persisted (the seed kept them in memory and lost them on restart).

Revision ID: 0012_error_monitoring
Revises: 0011_incidents
Create Date: 2026-12-04
"""
import sqlalchemy as sa

from adapters.postgres.types import UtcDateTime
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012_error_monitoring"
down_revision = "0011_incidents"
branch_labels = None
depends_on = None

UuidText = sa.String(36).with_variant(postgresql.UUID(as_uuid=False), "postgresql")


def upgrade() -> None:
    op.create_table(
        "error_patterns",
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("error_type", sa.String(200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("file", sa.String(500)),
        sa.Column("line", sa.Integer()),
        sa.Column("function", sa.String(200)),
        sa.Column("stack_trace", sa.Text()),
        sa.Column("first_seen", UtcDateTime(), nullable=False),
        sa.Column("last_seen", UtcDateTime(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False, server_default="1"),
        sa.Column("examples", sa.JSON(), nullable=False),
        sa.Column("fixable", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("suggested_fix", sa.Text()),
        sa.PrimaryKeyConstraint("key", name="pk_error_patterns"),
    )
    op.create_index("ix_error_patterns_last_seen", "error_patterns", ["last_seen"])
    op.create_index("ix_error_patterns_error_type", "error_patterns", ["error_type"])
    op.create_table(
        "error_monitor_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("interval_s", sa.Integer(), nullable=False, server_default="300"),
        sa.Column("auto_fix", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("last_scan", UtcDateTime()),
        sa.Column("cursor_ns", sa.BigInteger()),
        sa.Column("cursor_hashes", sa.JSON()),
        sa.Column("errors_since_last_fix", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_error_monitor_state"),
    )
    op.create_table(
        "generated_fixes",
        sa.Column("id", UuidText, nullable=False),
        sa.Column("error_pattern_id", sa.String(400), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=False),
        sa.Column("error_category", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("generated_at", UtcDateTime(), nullable=False),
        sa.Column("analysis", sa.Text(), nullable=False, server_default=""),
        sa.Column("proposed_fix", sa.Text(), nullable=False, server_default=""),
        sa.Column("code_changes", sa.JSON(), nullable=False),
        sa.Column("files_affected", sa.JSON(), nullable=False),
        sa.Column("pr_url", sa.String(500)),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("pr_number", sa.Integer()),
        sa.Column("branch", sa.String(200)),
        sa.Column("error", sa.Text()),
        sa.Column("model", sa.String(100)),
        sa.Column("input_tokens", sa.Integer()),
        sa.Column("output_tokens", sa.Integer()),
        sa.PrimaryKeyConstraint("id", name="pk_generated_fixes"),
        sa.CheckConstraint("status IN ('pending', 'testing', 'merged', 'failed')", name="ck_generated_fixes_status"),
    )
    op.create_index("ix_generated_fixes_error_pattern_id", "generated_fixes", ["error_pattern_id"])
    op.create_index("ix_generated_fixes_generated_at", "generated_fixes", ["generated_at"])


def downgrade() -> None:
    op.drop_table("generated_fixes")
    op.drop_table("error_monitor_state")
    op.drop_table("error_patterns")
