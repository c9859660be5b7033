"""Alembic operations creating the platform's event tables in a service's database.

Every event-owning service runs these from its own first migration. They are
versioned and frozen like any migration: a later change to the tables is a
new ``..._v2`` function called from a new migration, never an edit here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def create_event_tables_v1() -> None:
    op.create_table(
        "outbox_events",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
    )
    op.create_index(
        "ix_outbox_events_unpublished",
        "outbox_events",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_processed_events")),
    )


def drop_event_tables_v1() -> None:
    op.drop_table("processed_events")
    op.drop_index("ix_outbox_events_unpublished", table_name="outbox_events")
    op.drop_table("outbox_events")


def create_parked_events_v1() -> None:
    """``parked_events``: events a consumer gave up on, kept for an operator."""
    op.create_table(
        "parked_events",
        sa.Column("consumer", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=512), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("delivery_count", sa.Integer(), nullable=False),
        sa.Column("error_type", sa.String(length=255), nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_parked_events")),
    )
    op.create_index(
        "ix_parked_events_listing",
        "parked_events",
        ["parked_at", "consumer", "event_id"],
        unique=False,
    )


def drop_parked_events_v1() -> None:
    op.drop_index("ix_parked_events_listing", table_name="parked_events")
    op.drop_table("parked_events")
