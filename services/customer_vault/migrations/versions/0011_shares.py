"""two-channel secure shares

``shares``: a contract, DPA document or one-off credential shared with an
external recipient — link by e-mail, PIN by SMS. Tokens and PINs are stored
as keyed hashes only; addresses, the credential and the undelivered secrets
are sealed with the share's own wrapped data key and wiped once used.

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shares",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=True),
        sa.Column("customer_id", sa.String(length=36), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wrapped_key", sa.Text(), nullable=True),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("link_hash", sa.String(length=128), nullable=False),
        sa.Column("pin_hash", sa.String(length=128), nullable=False),
        sa.Column("label_ct", sa.LargeBinary(), nullable=True),
        sa.Column("credential_ct", sa.LargeBinary(), nullable=True),
        sa.Column("email_ct", sa.LargeBinary(), nullable=True),
        sa.Column("phone_ct", sa.LargeBinary(), nullable=True),
        sa.Column("link_ct", sa.LargeBinary(), nullable=True),
        sa.Column("pin_ct", sa.LargeBinary(), nullable=True),
        sa.Column("email_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sms_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shares")),
    )
    op.create_index("ix_shares_sender", "shares", ["tenant_id", "created_by", "created_at"])
    op.create_index("ix_shares_key_version", "shares", ["tenant_id", "key_version"])


def downgrade() -> None:
    op.drop_index("ix_shares_key_version", table_name="shares")
    op.drop_index("ix_shares_sender", table_name="shares")
    op.drop_table("shares")
