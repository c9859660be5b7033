"""work order references (WO-000123, per tenant) and the assignee's unable notes

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


def _backfill() -> None:
    """Number the existing jobs of each tenant in filing order, and set its counter."""
    bind = op.get_bind()
    orders = sa.table(
        "work_orders",
        sa.column("id", sa.String),
        sa.column("tenant_id", sa.String),
        sa.column("reference", sa.String),
        sa.column("created_at", sa.DateTime),
    )
    counters = sa.table(
        "work_order_reference_counters",
        sa.column("tenant_id", sa.String),
        sa.column("last_number", sa.Integer),
    )
    rows = bind.execute(
        sa.select(orders.c.id, orders.c.tenant_id).order_by(
            orders.c.tenant_id, orders.c.created_at, orders.c.id
        )
    ).all()
    last: dict[str, int] = {}
    for order_id, tenant_id in rows:
        last[tenant_id] = last.get(tenant_id, 0) + 1
        bind.execute(
            orders.update()
            .where(orders.c.id == order_id)
            .values(reference=f"WO-{last[tenant_id]:06d}")
        )
    if last:
        bind.execute(
            counters.insert(),
            [{"tenant_id": tenant, "last_number": number} for tenant, number in last.items()],
        )


def upgrade() -> None:
    op.create_table(
        "work_order_reference_counters",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_work_order_reference_counters")),
    )
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("unable_notes", sa.Text(), nullable=False, server_default=""))
    _backfill()
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.alter_column("reference", existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column("unable_notes", server_default=None)
        batch_op.create_unique_constraint(
            op.f("uq_work_orders_reference"), ["tenant_id", "reference"]
        )


def downgrade() -> None:
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_work_orders_reference"), type_="unique")
        batch_op.drop_column("unable_notes")
        batch_op.drop_column("reference")
    op.drop_table("work_order_reference_counters")
