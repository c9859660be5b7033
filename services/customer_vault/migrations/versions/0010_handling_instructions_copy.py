"""data-handling instructions: customer_vault's copy of versions and acknowledgements

Fed by identity's ``instructions_published`` and ``instructions_acknowledged``
events; read on every call that shows customer data to a person.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instruction_versions",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "version", name=op.f("pk_instruction_versions")),
    )
    op.create_table(
        "instruction_acknowledgements",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "user_id", name=op.f("pk_instruction_acknowledgements")
        ),
    )


def downgrade() -> None:
    op.drop_table("instruction_acknowledgements")
    op.drop_table("instruction_versions")
