"""Identity's audit log: who did what, when, with what outcome, from where.

Every authentication attempt and every administrative action adds a record
in the same transaction as the change it describes (so a rolled-back change
leaves no record claiming it happened). A *failed* attempt usually rolls its
transaction back, so it is recorded with :func:`record_failure` in a unit of
work of its own. ``detail`` is a short machine reason such as
``invalid_credentials``; it never holds a password, token, code or secret.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.db import Database
from identity.models import AuditRecord

SUCCESS = "success"
FAILURE = "failure"
#: ``actor`` of calls made with the platform operator's token.
OPERATOR = "operator"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    tenant_id: str | None
    actor: str
    action: str
    outcome: str = SUCCESS
    target_id: str | None = None
    source_address: str | None = None
    detail: str | None = None


def record(session: AsyncSession, entry: AuditEntry, *, at: datetime | None = None) -> str:
    """Add the record to the caller's transaction; returns its id."""
    record_id = str(uuid.uuid4())
    session.add(
        AuditRecord(
            id=record_id,
            tenant_id=entry.tenant_id,
            occurred_at=at or datetime.now(UTC),
            actor=entry.actor[:100],
            action=entry.action,
            outcome=entry.outcome,
            target_id=entry.target_id,
            source_address=(entry.source_address or None) and entry.source_address[:64],
            detail=entry.detail and entry.detail[:200],
        )
    )
    return record_id


async def record_failure(database: Database, entry: AuditEntry) -> None:
    """Record a refused attempt in its own transaction (the caller's is rolled back)."""
    async with database.unit_of_work() as session:
        record(session, entry)
