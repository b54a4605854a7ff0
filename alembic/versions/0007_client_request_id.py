"""chat_completion_requests.client_request_id: the X-Request-Id the client sent, so a client can find its
rows by its own id; the gateway's request_id stays the unique key.

Revision ID: 0007_client_request_id
Revises: 0006_coupons
Create Date: 2026-12-04
"""
import sqlalchemy as sa

from alembic import op

revision = "0007_client_request_id"
down_revision = "0006_coupons"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chat_completion_requests") as batch:
        batch.add_column(sa.Column("client_request_id", sa.String(128), nullable=True))
    op.create_index("ix_chat_completion_requests_client_request_id", "chat_completion_requests",
                    ["client_request_id"])


def downgrade() -> None:
    op.drop_index("ix_chat_completion_requests_client_request_id", "chat_completion_requests")
    with op.batch_alter_table("chat_completion_requests") as batch:
        batch.drop_column("client_request_id")
