"""Catalog: providers, models, model_offers (who serves a model, as what, at what price), model_aliases.

Revision ID: 0002_catalog
Revises: 0001_core
Create Date: 2026-11-28
"""
import sqlalchemy as sa

from adapters.postgres.types import Money, UtcDateTime
from alembic import op

revision = "0002_catalog"
down_revision = "0001_core"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "providers",
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=False),
        sa.Column("api_key_env", sa.String(128), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("slug", name="pk_providers"),
        sa.CheckConstraint("kind IN ('openai', 'anthropic')", name="ck_providers_kind"),
    )
    op.create_table(
        "models",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("context_length", sa.Integer(), nullable=False),
        sa.Column("max_output_tokens", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_models"),
    )
    op.create_index("ix_models_is_active", "models", ["is_active"])
    op.create_table(
        "model_offers",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("model_id", sa.Text(), nullable=False),
        sa.Column("provider_slug", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("native_id", sa.Text(), nullable=False),
        sa.Column("input_per_mtok", Money()),
        sa.Column("output_per_mtok", Money()),
        sa.PrimaryKeyConstraint("id", name="pk_model_offers"),
        sa.UniqueConstraint("model_id", "provider_slug", name="uq_model_offers_model_id"),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"], ondelete="CASCADE",
                                name="fk_model_offers_model_id_models"),
        sa.ForeignKeyConstraint(["provider_slug"], ["providers.slug"],
                                name="fk_model_offers_provider_slug_providers"),
    )
    op.create_table(
        "model_aliases",
        sa.Column("alias", sa.Text(), nullable=False),
        sa.Column("model_id", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("alias", name="pk_model_aliases"),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"], ondelete="CASCADE",
                                name="fk_model_aliases_model_id_models"),
    )
    op.create_index("ix_model_aliases_model_id", "model_aliases", ["model_id"])


def downgrade() -> None:
    op.drop_table("model_aliases")
    op.drop_table("model_offers")
    op.drop_index("ix_models_is_active", table_name="models")
    op.drop_table("models")
    op.drop_table("providers")
