"""downtime_incidents: what a failing health check opened, its captured logs and how long it lasted.

Revision ID: 0011_incidents
Revises: 0010_accounts
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from adapters.postgres.types import UtcDateTime
from alembic import op

revision = "0011_incidents"
down_revision = "0010_accounts"
branch_labels = None
depends_on = None

UuidText = sa.String(36).with_variant(postgresql.UUID(as_uuid=False), "postgresql")
ONGOING_OF_A_CHECK = "status = 'ongoing' AND \"check\" <> 'manual'"


def upgrade() -> None:
    op.create_table(
        "downtime_incidents",
        sa.Column("id", UuidText, nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("detected_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime()),
        sa.Column("duration_seconds", sa.Integer()),
        sa.Column("health_endpoint", sa.String(200)),
        sa.Column("error_message", sa.Text()),
        sa.Column("http_status_code", sa.Integer()),
        sa.Column("response_body", sa.Text()),
        sa.Column("status", sa.String(16), nullable=False, server_default="ongoing"),
        sa.Column("severity", sa.String(16), nullable=False, server_default="high"),
        sa.Column("environment", sa.String(64), nullable=False, server_default="development"),
        sa.Column("logs_captured", sa.JSON()),
        sa.Column("log_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("logs_file_path", sa.String(500)),
        sa.Column("resolved_by", sa.String(320)),
        sa.Column("notes", sa.Text()),
        sa.Column("server_info", sa.JSON()),
        sa.Column("metrics_snapshot", sa.JSON()),
        sa.Column("check", sa.String(16), nullable=False, server_default="manual"),
        sa.Column("capture_due_at", UtcDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_downtime_incidents"),
        sa.CheckConstraint("status IN ('ongoing', 'investigating', 'resolved')", name="ck_downtime_incidents_status"),
        sa.CheckConstraint("severity IN ('low', 'medium', 'high', 'critical')",
                           name="ck_downtime_incidents_severity"),
        sa.CheckConstraint("\"check\" IN ('database', 'redis', 'providers', 'manual')",
                           name="ck_downtime_incidents_check"),
    )
    op.create_index("ix_downtime_incidents_status_started", "downtime_incidents",
                    ["status", sa.text("started_at DESC")])
    op.create_index("ix_downtime_incidents_started", "downtime_incidents", ["started_at"])
    op.create_index("uq_downtime_incidents_ongoing_check", "downtime_incidents", ["check"], unique=True,
                    postgresql_where=sa.text(ONGOING_OF_A_CHECK), sqlite_where=sa.text(ONGOING_OF_A_CHECK))


def downgrade() -> None:
    op.drop_table("downtime_incidents")
