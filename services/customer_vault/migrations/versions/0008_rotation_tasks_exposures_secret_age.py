"""rotation tasks, exposure reports, secret-age policies, daily job runs

``rotation_tasks``: codes (and locks) the office must change, opened once per
``dedupe_key``. ``exposures``: what a leaver or a lapsed organisation was
exposed to, one report per triggering event. ``secret_age_policies``: a
tenant's longest allowed age per code kind. ``job_runs``: one row per
periodic job and period, so that of two replicas only one runs it. An index
on the audit trail by the actor's organisation serves organisation exposures.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rotation_tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("site_id", sa.String(length=36), nullable=False),
        sa.Column("area_id", sa.String(length=36), nullable=False),
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("exposed_user_id", sa.String(length=36), nullable=True),
        sa.Column("exposed_organization_id", sa.String(length=36), nullable=True),
        sa.Column("exposure_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_how", sa.String(length=16), nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("close_reason", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "dedupe_key", name="uq_rotation_tasks_dedupe"),
    )
    op.create_index(
        "ix_rotation_tasks_open", "rotation_tasks", ["tenant_id", "status", "opened_at", "id"]
    )
    op.create_index(
        "ix_rotation_tasks_site", "rotation_tasks", ["tenant_id", "site_id", "subject", "status"]
    )
    op.create_table(
        "exposures",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("source_event_id", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "tenant_id", "source_event_id", "subject_id", name="uq_exposures_event"
        ),
    )
    op.create_index(
        "ix_exposures_subject",
        "exposures",
        ["tenant_id", "subject_kind", "subject_id", "computed_at"],
    )
    op.create_table(
        "job_runs",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("job", "period"),
    )
    op.create_table(
        "secret_age_policies",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("max_age_days", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "kind"),
    )
    op.create_index(
        "ix_audit_records_actor_organization",
        "audit_records",
        ["tenant_id", "actor_organization_id", "action", "occurred_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_audit_records_actor_organization", table_name="audit_records")
    op.drop_table("secret_age_policies")
    op.drop_table("job_runs")
    op.drop_index("ix_exposures_subject", table_name="exposures")
    op.drop_table("exposures")
    op.drop_index("ix_rotation_tasks_site", table_name="rotation_tasks")
    op.drop_index("ix_rotation_tasks_open", table_name="rotation_tasks")
    op.drop_table("rotation_tasks")
