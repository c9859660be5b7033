"""Alembic operations creating the retention tables in a purging service's database.

Frozen like any migration: a later change is a new ``..._v2`` function.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def create_retention_tables_v1() -> None:
    op.create_table(
        "retention_policies",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("days", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_retention_policies")),
    )
    op.create_table(
        "retention_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("run_key", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_runs")),
        sa.UniqueConstraint("run_key", name=op.f("uq_retention_runs_run_key")),
    )
    op.create_table(
        "retention_run_counts",
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("purged", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "run_id", "tenant_id", "category", name=op.f("pk_retention_run_counts")
        ),
    )


def drop_retention_tables_v1() -> None:
    op.drop_table("retention_run_counts")
    op.drop_table("retention_runs")
    op.drop_table("retention_policies")
