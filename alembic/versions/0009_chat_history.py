"""Chat history: chat_sessions, chat_messages, message_feedback; model_numbers (an integer per catalog
model) and chat_completion_requests.model_id, backfilled from the canonical model name.

On PostgreSQL, search gets pg_trgm GIN indexes on chat_sessions.title and chat_messages.content: the
extension is created when the migrating role may (else search still works, by sequential scan within
the caller's sessions; see the README).

Revision ID: 0009_chat_history
Revises: 0008_settlement_journal
Create Date: 2026-12-04
"""
import sqlalchemy as sa

from adapters.postgres.types import UtcDateTime
from alembic import op

revision = "0009_chat_history"
down_revision = "0008_settlement_journal"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "chat_sessions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_chat_sessions"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_chat_sessions_user_id_users"),
    )
    op.create_index("ix_chat_sessions_user_active_updated", "chat_sessions",
                    ["user_id", "is_active", sa.text("updated_at DESC")])
    op.create_table(
        "chat_messages",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("session_id", Id, nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("model", sa.Text()),
        sa.Column("tokens", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_chat_messages"),
        sa.ForeignKeyConstraint(["session_id"], ["chat_sessions.id"], ondelete="CASCADE",
                                name="fk_chat_messages_session_id_chat_sessions"),
    )
    op.create_index("ix_chat_messages_session_created", "chat_messages", ["session_id", "created_at", "id"])
    op.create_table(
        "message_feedback",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("session_id", Id),
        sa.Column("message_id", Id),
        sa.Column("feedback_type", sa.Text(), nullable=False),
        sa.Column("rating", sa.Integer()),
        sa.Column("comment", sa.Text()),
        sa.Column("model", sa.Text()),
        sa.Column("metadata", sa.JSON()),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_message_feedback"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_message_feedback_user_id_users"),
        sa.ForeignKeyConstraint(["session_id"], ["chat_sessions.id"], ondelete="SET NULL",
                                name="fk_message_feedback_session_id_chat_sessions"),
        sa.ForeignKeyConstraint(["message_id"], ["chat_messages.id"], ondelete="SET NULL",
                                name="fk_message_feedback_message_id_chat_messages"),
        sa.CheckConstraint("feedback_type IN ('thumbs_up', 'thumbs_down', 'regenerate')",
                           name="ck_message_feedback_feedback_type"),
        sa.CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="ck_message_feedback_rating"),
    )
    op.create_index("ix_message_feedback_user_created", "message_feedback",
                    ["user_id", sa.text("created_at DESC")])
    op.create_index("ix_message_feedback_session_id", "message_feedback", ["session_id"])
    if op.get_bind().dialect.name == "postgresql":
        _trigram_indexes()

    op.create_table(
        "model_numbers",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("model_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_model_numbers"),
        sa.UniqueConstraint("model_id", name="uq_model_numbers_model_id"),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"], ondelete="CASCADE",
                                name="fk_model_numbers_model_id_models"),
    )
    op.execute("INSERT INTO model_numbers (model_id) SELECT id FROM models ORDER BY id")
    with op.batch_alter_table("chat_completion_requests") as batch:  # batch: SQLite adds the FK by a copy
        batch.add_column(sa.Column("model_id", Id))
        batch.create_foreign_key("fk_chat_completion_requests_model_id_model_numbers", "model_numbers",
                                 ["model_id"], ["id"], ondelete="SET NULL")
    op.execute("UPDATE chat_completion_requests SET model_id = (SELECT n.id FROM model_numbers n "
               "WHERE n.model_id = chat_completion_requests.model)")
    op.create_index("ix_chat_completion_requests_model_provider_status_created", "chat_completion_requests",
                    ["model_id", "provider", "status", "created_at"])


def _trigram_indexes() -> None:
    """CREATE EXTENSION needs a privileged role (or a trusted extension on PostgreSQL 13+); without
    it the migration goes on with the B-tree indexes alone."""
    bind = op.get_bind()
    savepoint = bind.begin_nested()
    try:
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        savepoint.commit()
    except sa.exc.DBAPIError:
        savepoint.rollback()
    if bind.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").first() is None:
        return
    op.execute("CREATE INDEX ix_chat_sessions_title_trgm ON chat_sessions USING gin (title gin_trgm_ops)")
    op.execute("CREATE INDEX ix_chat_messages_content_trgm ON chat_messages USING gin (content gin_trgm_ops)")


def downgrade() -> None:
    op.drop_index("ix_chat_completion_requests_model_provider_status_created", "chat_completion_requests")
    with op.batch_alter_table("chat_completion_requests") as batch:
        batch.drop_constraint("fk_chat_completion_requests_model_id_model_numbers", type_="foreignkey")
        batch.drop_column("model_id")
    op.drop_table("model_numbers")
    op.drop_table("message_feedback")
    op.drop_table("chat_messages")
    op.drop_table("chat_sessions")
