"""Settlement journal: audit_log.request_id, unique per event type, so that a `hold_expired` event
drained twice from the journal is written once.

Revision ID: 0008_settlement_journal
Revises: 0007_client_request_id
Create Date: 2026-12-02
"""
import sqlalchemy as sa

from alembic import op

revision = "0008_settlement_journal"
down_revision = "0007_client_request_id"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:  # batch: SQLite cannot add a constraint in place
        batch.add_column(sa.Column("request_id", sa.String(64)))
        batch.create_unique_constraint("uq_audit_log_event_type_request_id", ["event_type", "request_id"])


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_constraint("uq_audit_log_event_type_request_id", type_="unique")
        batch.drop_column("request_id")
