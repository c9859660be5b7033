"""customers' name blind index

``customers.name_index`` is a keyed blind index (Vault Transit HMAC) of the
normalised name, for exact-match search by name. Existing customers cannot be
indexed here (computing it needs Vault and the decrypted name): each is
indexed on its next write; until then it is not found by name.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_index", sa.String(length=128), nullable=True))
        batch_op.create_index("ix_customers_tenant_name", ["tenant_id", "name_index"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_tenant_name")
        batch_op.drop_column("name_index")
