"""secure shares' channels in message deliveries

``message_deliveries.share_id``: a queued e-mail or SMS of a secure share
(kind ``share``); its address and its link or PIN are fetched from
customer-vault when it is sent, never stored here.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("message_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("share_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message_deliveries", schema=None) as batch_op:
        batch_op.drop_column("share_id")
