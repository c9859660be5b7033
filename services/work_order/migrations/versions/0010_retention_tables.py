"""retention: tenant policy copies and purge runs

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from fieldvault_platform.retention_schema import (
    create_retention_tables_v1,
    drop_retention_tables_v1,
)

revision: str = "0010"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_retention_tables_v1()


def downgrade() -> None:
    drop_retention_tables_v1()
