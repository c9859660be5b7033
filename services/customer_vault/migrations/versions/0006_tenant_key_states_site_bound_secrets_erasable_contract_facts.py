"""tenant key states, site-bound secret sealing, erasable contract size and hash

``tenant_key_states`` serialises storing a new wrapped data key against
destroying old tenant key versions. ``site_secrets.aad_version`` marks how a
code is sealed: existing rows stay at 1 (readable as before) and are re-sealed
with the site in their associated data by key rotation or the site's next code
write, which needs Vault — so not here. Contracts' size and SHA-256 become
nullable, so an erasure can remove them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tenant_key_states",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("retired_below", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_key_states")),
    )
    with op.batch_alter_table("site_secrets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("aad_version", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.alter_column("size", existing_type=sa.BigInteger(), nullable=True)
        batch_op.alter_column("sha256", existing_type=sa.String(length=64), nullable=True)


def downgrade() -> None:
    # Codes re-sealed with their site (aad_version 2) cannot be read by code older than
    # this revision: downgrade only together with a restore, or before any re-seal.
    # An erased contract has no size or hash left: the stub keeps zero and an empty hash.
    op.execute("UPDATE contracts SET size = 0 WHERE size IS NULL")
    op.execute("UPDATE contracts SET sha256 = '' WHERE sha256 IS NULL")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.alter_column("sha256", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("size", existing_type=sa.BigInteger(), nullable=False)
    with op.batch_alter_table("site_secrets", schema=None) as batch_op:
        batch_op.drop_column("aad_version")
    op.drop_table("tenant_key_states")
