"""grant tasks keep the traceparent of the change that queued them

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("grant_tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("traceparent", sa.String(length=128), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("grant_tasks", schema=None) as batch_op:
        batch_op.drop_column("traceparent")
