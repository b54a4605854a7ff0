"""coupons and coupon_redemptions: admin-issued credit codes, redeemed once per user.

Revision ID: 0006_coupons
Revises: 0005_credits
Create Date: 2026-11-29
"""
import sqlalchemy as sa

from adapters.postgres.types import Money, UtcDateTime
from alembic import op

revision = "0006_coupons"
down_revision = "0005_credits"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "coupons",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(50), nullable=False),
        sa.Column("value_usd", Money(), nullable=False),
        sa.Column("coupon_scope", sa.String(16), nullable=False),
        sa.Column("coupon_type", sa.String(16), nullable=False, server_default="promotional"),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("times_used", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("valid_from", UtcDateTime(), nullable=False),
        sa.Column("valid_until", UtcDateTime(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("assigned_to_user_id", Id),
        sa.Column("created_by", Id),
        sa.Column("created_by_type", sa.String(16), nullable=False, server_default="admin"),
        sa.Column("description", sa.String(500)),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_coupons"),
        sa.UniqueConstraint("code", name="uq_coupons_code"),
        sa.ForeignKeyConstraint(["assigned_to_user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_coupons_assigned_to_user_id_users"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], ondelete="SET NULL", name="fk_coupons_created_by_users"),
        sa.CheckConstraint("code = upper(code)", name="ck_coupons_code_upper"),
        sa.CheckConstraint("coupon_scope IN ('user_specific', 'global')", name="ck_coupons_scope"),
        sa.CheckConstraint("coupon_type IN ('promotional', 'referral', 'compensation', 'partnership')",
                           name="ck_coupons_type"),
        sa.CheckConstraint("created_by_type IN ('admin', 'system')", name="ck_coupons_created_by_type"),
        sa.CheckConstraint("max_uses > 0 AND times_used >= 0 AND times_used <= max_uses", name="ck_coupons_uses"),
        sa.CheckConstraint(
            "(coupon_scope = 'global' AND assigned_to_user_id IS NULL) OR "
            "(coupon_scope = 'user_specific' AND assigned_to_user_id IS NOT NULL AND max_uses = 1)",
            name="ck_coupons_assignment"),
    )
    op.create_index("ix_coupons_assigned_to_user_id", "coupons", ["assigned_to_user_id"])
    op.create_index("ix_coupons_created_at", "coupons", ["created_at"])

    op.create_table(
        "coupon_redemptions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("coupon_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("value_applied", Money(), nullable=False),
        sa.Column("user_balance_before", Money(), nullable=False),
        sa.Column("user_balance_after", Money(), nullable=False),
        sa.Column("transaction_id", Id),
        sa.Column("ip_address", sa.String(64)),
        sa.Column("user_agent", sa.String(500)),
        sa.Column("redeemed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_coupon_redemptions"),
        sa.UniqueConstraint("coupon_id", "user_id", name="uq_coupon_redemptions_coupon_id"),
        sa.ForeignKeyConstraint(["coupon_id"], ["coupons.id"], name="fk_coupon_redemptions_coupon_id_coupons"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_coupon_redemptions_user_id_users"),
        sa.ForeignKeyConstraint(["transaction_id"], ["credit_transactions.id"], ondelete="SET NULL",
                                name="fk_coupon_redemptions_transaction_id_credit_transactions"),
    )
    op.create_index("ix_coupon_redemptions_user_redeemed", "coupon_redemptions", ["user_id", "redeemed_at"])


def downgrade() -> None:
    op.drop_table("coupon_redemptions")
    op.drop_table("coupons")
