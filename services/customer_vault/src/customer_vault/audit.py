"""The tamper-evident audit trail: append-only records hash-chained per tenant.

Each record's hash covers its own content and the previous record's hash, so
changing, removing or reordering any record breaks the chain from there on;
:func:`verify` walks the chain and names the first record that does not fit.
Appends serialise on the tenant's chain head row (the ``UPDATE … RETURNING``
takes its row lock on PostgreSQL and SQLite's write lock), so concurrent
appends never fork the chain. The database refuses UPDATE and DELETE on the
records (see the migration). Every record is also published for a SIEM
(``audit_recorded``), without free-text reasons.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opentelemetry import trace
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from customer_vault import events
from customer_vault.models import AuditChainHead, AuditRecord
from fieldvault_platform.auth import Principal, PrincipalKind
from fieldvault_platform.db import as_utc

GENESIS_HASH = "0" * 64
VERIFY_BATCH = 1000

SUCCESS = "success"
DENIED = "denied"


@dataclass(frozen=True, slots=True)
class AuditActor:
    kind: str
    id: str
    organization_id: str | None = None
    on_behalf_of: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> AuditActor:
        on_behalf_of = principal.actor.user_id if principal.actor is not None else None
        return cls(
            kind=principal.kind.value,
            id=principal.subject,
            organization_id=principal.organization_id,
            on_behalf_of=on_behalf_of,
        )


#: The service itself, acting on an event (e.g. revoking grants of a deactivated user).
SYSTEM = AuditActor(kind=PrincipalKind.SERVICE.value, id="service:customer_vault")


@dataclass(frozen=True, slots=True)
class Entry:
    """What happened; the chain fields are added by :func:`record`."""

    action: str
    resource_type: str
    outcome: str = SUCCESS
    resource_id: str | None = None
    customer_id: str | None = None
    site_id: str | None = None
    fields: Sequence[str] = ()
    purpose: str | None = None
    reason: str | None = None
    #: Published instead of a free-text reason (a denial's machine code).
    denial_code: str | None = None
    request_id: str | None = None
    break_glass: bool = False


def _content(record: AuditRecord) -> dict[str, Any]:
    """The hashed content of a record: every column but ``hash`` itself."""
    return {
        "id": record.id,
        "tenant_id": record.tenant_id,
        "sequence": record.sequence,
        "occurred_at": as_utc(record.occurred_at).isoformat(),
        "actor_kind": record.actor_kind,
        "actor_id": record.actor_id,
        "actor_organization_id": record.actor_organization_id,
        "on_behalf_of": record.on_behalf_of,
        "action": record.action,
        "resource_type": record.resource_type,
        "resource_id": record.resource_id,
        "customer_id": record.customer_id,
        "site_id": record.site_id,
        "fields": list(record.fields),
        "purpose": record.purpose,
        "outcome": record.outcome,
        "reason": record.reason,
        "request_id": record.request_id,
        "trace_id": record.trace_id,
        "break_glass": bool(record.break_glass),
        "previous_hash": record.previous_hash,
    }


def record_hash(record: AuditRecord) -> str:
    canonical = json.dumps(_content(record), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _current_trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


async def _advance_head(session: AsyncSession, tenant_id: str) -> tuple[int, str]:
    """Take the tenant's chain head (locking it) and return (new sequence, previous hash)."""
    advance = (
        update(AuditChainHead)
        .where(AuditChainHead.tenant_id == tenant_id)
        .values(sequence=AuditChainHead.sequence + 1)
        .returning(AuditChainHead.sequence, AuditChainHead.hash)
    )
    row = (await session.execute(advance)).first()
    if row is None:
        # The tenant's first record: create the head, unless a concurrent
        # first append just did (then advance that one).
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        await session.execute(
            insert(AuditChainHead)
            .values(tenant_id=tenant_id, sequence=0, hash=GENESIS_HASH)
            .on_conflict_do_nothing()
        )
        row = (await session.execute(advance)).one()
    return int(row.sequence), str(row.hash)


async def record(
    session: AsyncSession, *, tenant_id: str, actor: AuditActor, entry: Entry, now: datetime
) -> AuditRecord:
    """Append one record in the caller's transaction (and its SIEM event)."""
    sequence, previous_hash = await _advance_head(session, tenant_id)
    row = AuditRecord(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        sequence=sequence,
        occurred_at=now,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_organization_id=actor.organization_id,
        on_behalf_of=actor.on_behalf_of,
        action=entry.action,
        resource_type=entry.resource_type,
        resource_id=entry.resource_id,
        customer_id=entry.customer_id,
        site_id=entry.site_id,
        fields=list(entry.fields),
        purpose=entry.purpose,
        outcome=entry.outcome,
        reason=entry.reason,
        request_id=entry.request_id or None,
        trace_id=_current_trace_id(),
        break_glass=entry.break_glass,
        previous_hash=previous_hash,
    )
    row.hash = record_hash(row)
    session.add(row)
    await session.execute(
        update(AuditChainHead).where(AuditChainHead.tenant_id == tenant_id).values(hash=row.hash)
    )
    events.audit_recorded(session, row, denial_code=entry.denial_code)
    return row


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_broken_id: str | None = None
    problem: str | None = None


async def verify(session: AsyncSession, tenant_id: str) -> Verification:
    """Recompute the tenant's chain from the start; name the first record that breaks it."""
    expected_sequence, previous_hash, checked = 1, GENESIS_HASH, 0
    last_id: str | None = None
    while True:
        rows = (
            await session.scalars(
                select(AuditRecord)
                .where(
                    AuditRecord.tenant_id == tenant_id,
                    AuditRecord.sequence >= expected_sequence,
                )
                .order_by(AuditRecord.sequence)
                .limit(VERIFY_BATCH)
            )
        ).all()
        for row in rows:
            problem = None
            if row.sequence != expected_sequence:
                problem = "sequence_gap"  # a record before this one was removed
            elif row.previous_hash != previous_hash:
                problem = "chain_broken"
            elif record_hash(row) != row.hash:
                problem = "hash_mismatch"  # this record's content was changed
            if problem is not None:
                return Verification(False, checked, row.id, problem)
            expected_sequence, previous_hash, last_id = row.sequence + 1, row.hash, row.id
            checked += 1
        if len(rows) < VERIFY_BATCH:
            break
    head = await session.get(AuditChainHead, tenant_id)
    if head is not None and (head.sequence != checked or head.hash != previous_hash):
        # Records were removed from the end of the chain.
        return Verification(False, checked, last_id, "truncated")
    return Verification(True, checked)
