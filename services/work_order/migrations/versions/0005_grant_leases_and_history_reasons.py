"""grant leases (one replica delivers a work order's grant tasks) and history reasons

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "grant_leases",
        sa.Column("work_order_id", sa.String(length=36), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("work_order_id", name=op.f("pk_grant_leases")),
    )
    with op.batch_alter_table("work_order_history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("work_order_history", schema=None) as batch_op:
        batch_op.drop_column("reason")
    op.drop_table("grant_leases")
