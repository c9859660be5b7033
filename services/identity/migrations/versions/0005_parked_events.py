"""parked events: events a consumer gave up on, kept for an operator

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from fieldvault_platform.events.schema import create_parked_events_v1, drop_parked_events_v1

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_parked_events_v1()


def downgrade() -> None:
    drop_parked_events_v1()
