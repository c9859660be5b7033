"""retention: tenant policy copies, purge runs, and audit checkpoints

``audit_checkpoints`` holds, per tenant, the last audit record purged for
retention (sequence, hash, MAC'd in Vault). The append-only guard on
``audit_records`` now lets a DELETE through only for records such a
checkpoint covers: a purge first writes the checkpoint, then deletes the
prefix, in one transaction. UPDATE and TRUNCATE stay refused for everyone,
and the runtime role still holds no DELETE privilege: only the owner's purge
job (``python -m customer_vault purge-retention``) removes records.

Revision ID: 0012
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fieldvault_platform.retention_schema import (
    create_retention_tables_v1,
    drop_retention_tables_v1,
)

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFUSAL = "audit records are append-only"
_COVERED = (
    "EXISTS (SELECT 1 FROM audit_checkpoints c "
    "WHERE c.tenant_id = OLD.tenant_id AND OLD.sequence <= c.sequence)"
)


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mac", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_audit_checkpoints")),
    )
    create_retention_tables_v1()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION audit_records_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' AND {_COVERED} THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION '{_REFUSAL}';
            END;
            $$
            """
        )
        return
    op.execute("DROP TRIGGER IF EXISTS audit_records_no_delete")
    op.execute(
        "CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records "
        f"WHEN NOT {_COVERED} BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION audit_records_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{_REFUSAL}';
            END;
            $$
            """
        )
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_records_no_delete")
        op.execute(
            "CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records "
            f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
        )
    drop_retention_tables_v1()
    op.drop_table("audit_checkpoints")
