"""subcontractor DPA documents

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dpa_documents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("filename_ct", sa.LargeBinary(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_ct", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dpa_documents")),
    )
    with op.batch_alter_table("dpa_documents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dpa_documents_organization",
            ["tenant_id", "organization_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "organization_keys",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("wrapped_key", sa.Text(), nullable=True),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "organization_id", name=op.f("pk_organization_keys")),
    )
    with op.batch_alter_table("organization_keys", schema=None) as batch_op:
        batch_op.create_index(
            "ix_organization_keys_key_version", ["tenant_id", "key_version"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("organization_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_organization_keys_key_version")

    op.drop_table("organization_keys")
    with op.batch_alter_table("dpa_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_dpa_documents_organization")

    op.drop_table("dpa_documents")
