"""work orders, history and grant tasks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "grant_tasks",
        sa.Column("sequence", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("work_order_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_reason", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_grant_tasks")),
    )
    with op.batch_alter_table("grant_tasks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_grant_tasks_pending",
            ["sequence"],
            unique=False,
            postgresql_where=sa.text("done_at IS NULL"),
            sqlite_where=sa.text("done_at IS NULL"),
        )

    op.create_table(
        "work_orders",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("site_id", sa.String(length=36), nullable=False),
        sa.Column("area_id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scheduled_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scheduled_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assignee_user_id", sa.String(length=36), nullable=True),
        sa.Column("assignee_organization_id", sa.String(length=36), nullable=True),
        sa.Column("assigned_to_organization", sa.Boolean(), nullable=False),
        sa.Column("assignee_subcontractor", sa.Boolean(), nullable=False),
        sa.Column("completion_notes", sa.Text(), nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_orders")),
    )
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_work_orders_area", ["tenant_id", "area_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_work_orders_assignee", ["tenant_id", "assignee_user_id", "status"], unique=False
        )
        batch_op.create_index("ix_work_orders_site", ["tenant_id", "site_id"], unique=False)
        batch_op.create_index(
            "ix_work_orders_tenant_created", ["tenant_id", "created_at", "id"], unique=False
        )

    op.create_table(
        "work_order_history",
        sa.Column("sequence", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("work_order_id", sa.String(length=36), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_work_order_history_work_order_id_work_orders"),
        ),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_work_order_history")),
        sa.UniqueConstraint("id", name=op.f("uq_work_order_history_id")),
    )
    with op.batch_alter_table("work_order_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_work_order_history_order", ["work_order_id", "sequence"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("work_order_history", schema=None) as batch_op:
        batch_op.drop_index("ix_work_order_history_order")

    op.drop_table("work_order_history")
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_work_orders_tenant_created")
        batch_op.drop_index("ix_work_orders_site")
        batch_op.drop_index("ix_work_orders_assignee")
        batch_op.drop_index("ix_work_orders_area")

    op.drop_table("work_orders")
    with op.batch_alter_table("grant_tasks", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_grant_tasks_pending",
            postgresql_where=sa.text("done_at IS NULL"),
            sqlite_where=sa.text("done_at IS NULL"),
        )

    op.drop_table("grant_tasks")
