"""physical key register

``physical_keys``: keys, fobs and cards held for a site, findable by a keyed
blind index of their tag code (the code itself is not stored), label
encrypted. ``key_checkouts``: who holds which key for which grant, at most
one open per key; ``overdue_alerted_at`` makes the overdue alert happen once.

Revision ID: 0009
Revises: 0008 (after merging h20-rotation; on main alone it would be 0007)
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "physical_keys",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("site_id", sa.String(length=36), sa.ForeignKey("sites.id"), nullable=False),
        sa.Column(
            "customer_id", sa.String(length=36), sa.ForeignKey("customers.id"), nullable=False
        ),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("label_ct", sa.LargeBinary(), nullable=True),
        sa.Column("tag_index", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lost_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("tenant_id", "tag_index", name="uq_physical_keys_tag"),
    )
    op.create_index("ix_physical_keys_site", "physical_keys", ["tenant_id", "site_id"])
    op.create_table(
        "key_checkouts",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column(
            "key_id", sa.String(length=36), sa.ForeignKey("physical_keys.id"), nullable=False
        ),
        sa.Column("site_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("grant_id", sa.String(length=36), sa.ForeignKey("grants.id"), nullable=False),
        sa.Column("work_order_id", sa.String(length=36), nullable=False),
        sa.Column("checked_out_by", sa.String(length=100), nullable=False),
        sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_as", sa.String(length=16), nullable=True),
        sa.Column("overdue_alerted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "uq_key_checkouts_open_per_key",
        "key_checkouts",
        ["key_id"],
        unique=True,
        postgresql_where=sa.text("closed_at IS NULL"),
        sqlite_where=sa.text("closed_at IS NULL"),
    )
    op.create_index("ix_key_checkouts_user", "key_checkouts", ["tenant_id", "user_id"])
    op.create_index("ix_key_checkouts_open", "key_checkouts", ["closed_at", "overdue_alerted_at"])


def downgrade() -> None:
    op.drop_index("ix_key_checkouts_open", table_name="key_checkouts")
    op.drop_index("ix_key_checkouts_user", table_name="key_checkouts")
    op.drop_index("uq_key_checkouts_open_per_key", table_name="key_checkouts")
    op.drop_table("key_checkouts")
    op.drop_index("ix_physical_keys_site", table_name="physical_keys")
    op.drop_table("physical_keys")
