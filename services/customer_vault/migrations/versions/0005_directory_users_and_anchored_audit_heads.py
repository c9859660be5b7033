"""directory users (deactivations and organisation moves) and MAC-anchored audit heads

``directory_users`` keeps what identity's events said about a user, so a
grant is never created for a deactivated user or for an organisation the user
has left. ``audit_chain_heads.mac`` holds the Vault Transit HMAC of each head;
heads written before this revision have none until the tenant's next append.

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
        "directory_users",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=True),
        sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "user_id", name=op.f("pk_directory_users")),
    )
    with op.batch_alter_table("audit_chain_heads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mac", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_chain_heads", schema=None) as batch_op:
        batch_op.drop_column("mac")
    op.drop_table("directory_users")
