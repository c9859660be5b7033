"""The tamper-evident audit trail: append-only records hash-chained per tenant.

Each record's hash covers its own content and the previous record's hash, so
changing, removing or reordering any record breaks the chain from there on;
:func:`verify` walks the chain and names the first record that does not fit.
Appends serialise on the tenant's chain head row (the ``UPDATE … RETURNING``
takes its row lock on PostgreSQL and SQLite's write lock), so concurrent
appends never fork the chain. The database refuses UPDATE and DELETE on the
records (see the migration). Every record is also published for a SIEM
(``audit_recorded``), without free-text reasons.

Whoever owns the database can still drop the trigger, delete the newest
records and rewind (or delete) the head row. So the head is anchored outside
the database: every append MACs the new head (tenant, sequence, hash) with the
tenant's Vault Transit key ``fv-audit-chain-<tenant>``, which only this service
can use, and :func:`verify` says "not ok" when records exist without a head
whose MAC holds. A rewind to an older, genuinely MAC'd head is what the
published copy catches: each ``audit_recorded`` event carries the head it
produced (sequence, hash, MAC), so a SIEM that kept the highest sequence it saw
detects a head that went back.
"""

from __future__ import annotations

import hashlib
import json
import time
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
from customer_vault.models import AuditChainHead, AuditCheckpoint, AuditRecord
from fieldvault_platform.auth import Principal, PrincipalKind
from fieldvault_platform.db import as_utc
from fieldvault_platform.metrics import AUDIT_APPEND_DURATION, trace_exemplar
from fieldvault_platform.vault import VaultClient, VaultRefused

GENESIS_HASH = "0" * 64
VERIFY_BATCH = 1000
#: Further reads of a chain that looked truncated (appends racing the first read).
VERIFY_REREADS = 2

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


def anchor_key_name(tenant_id: str) -> str:
    return f"fv-audit-chain-{tenant_id}"


def _head_message(tenant_id: str, sequence: int, head_hash: str) -> bytes:
    return f"fieldvault-audit-head:v1:{tenant_id}:{sequence}:{head_hash}".encode()


def _checkpoint_message(
    tenant_id: str, sequence: int, last_hash: str, occurred_at: datetime
) -> bytes:
    stamp = as_utc(occurred_at).isoformat()
    return f"fieldvault-audit-checkpoint:v1:{tenant_id}:{sequence}:{last_hash}:{stamp}".encode()


class ChainAnchor:
    """MACs and checks chain heads with the tenant's Transit key (it never leaves Vault)."""

    def __init__(self, vault: VaultClient) -> None:
        self._vault = vault
        self._ensured: set[str] = set()

    async def _key(self, tenant_id: str) -> str:
        key = anchor_key_name(tenant_id)
        if tenant_id not in self._ensured:
            await self._vault.ensure_transit_key(key)
            self._ensured.add(tenant_id)
        return key

    async def mac(self, tenant_id: str, sequence: int, head_hash: str) -> str:
        key = await self._key(tenant_id)
        return await self._vault.hmac(key, _head_message(tenant_id, sequence, head_hash))

    async def holds(self, tenant_id: str, sequence: int, head_hash: str, mac: str) -> bool:
        key = await self._key(tenant_id)
        try:
            return await self._vault.hmac_matches(
                key, _head_message(tenant_id, sequence, head_hash), mac
            )
        except VaultRefused:
            return False  # not a MAC Vault recognises (malformed, unknown key version)

    async def mac_checkpoint(
        self, tenant_id: str, sequence: int, last_hash: str, occurred_at: datetime
    ) -> str:
        key = await self._key(tenant_id)
        message = _checkpoint_message(tenant_id, sequence, last_hash, occurred_at)
        return await self._vault.hmac(key, message)

    async def checkpoint_holds(self, checkpoint: AuditCheckpoint) -> bool:
        key = await self._key(checkpoint.tenant_id)
        message = _checkpoint_message(
            checkpoint.tenant_id, checkpoint.sequence, checkpoint.hash, checkpoint.occurred_at
        )
        try:
            return await self._vault.hmac_matches(key, message, checkpoint.mac)
        except VaultRefused:
            return False


async def _ensure_head(session: AsyncSession, tenant_id: str) -> None:
    """The tenant's head row, created at the genesis unless a concurrent append just did."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(AuditChainHead)
        .values(tenant_id=tenant_id, sequence=0, hash=GENESIS_HASH)
        .on_conflict_do_nothing()
    )


async def lock_chain(session: AsyncSession, tenant_id: str) -> None:
    """Serialise with every other append of the tenant until this transaction ends.

    For decisions that must not race an append (the reveal count, a grant
    against a deactivation): call it first in the transaction, so SQLite's
    snapshot also starts under the write lock.
    """
    touch = (
        update(AuditChainHead)
        .where(AuditChainHead.tenant_id == tenant_id)
        .values(sequence=AuditChainHead.sequence)
    )
    if (await session.execute(touch)).rowcount == 0:  # type: ignore[attr-defined]
        await _ensure_head(session, tenant_id)
        await session.execute(touch)


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
        # The tenant's first record: create the head, then advance it.
        await _ensure_head(session, tenant_id)
        row = (await session.execute(advance)).one()
    return int(row.sequence), str(row.hash)


class AuditTrail:
    """Appends records (in the caller's transaction) and verifies a tenant's chain."""

    def __init__(self, anchor: ChainAnchor) -> None:
        self._anchor = anchor

    async def record(
        self,
        session: AsyncSession,
        *,
        tenant_id: str,
        actor: AuditActor,
        entry: Entry,
        now: datetime,
    ) -> AuditRecord:
        """Append one record in the caller's transaction (and its SIEM event).

        The new head's MAC is asked of Vault while the head is locked: no Vault,
        no record (and so none of what the record vouches for).
        """
        started = time.perf_counter()
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
        head_mac = await self._anchor.mac(tenant_id, sequence, row.hash)
        session.add(row)
        await session.execute(
            update(AuditChainHead)
            .where(AuditChainHead.tenant_id == tenant_id)
            .values(hash=row.hash, mac=head_mac)
        )
        events.audit_recorded(session, row, denial_code=entry.denial_code, head_mac=head_mac)
        AUDIT_APPEND_DURATION.observe(time.perf_counter() - started, trace_exemplar())
        return row

    async def verify(self, session: AsyncSession, tenant_id: str) -> Verification:
        return await verify(session, tenant_id, self._anchor)


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_broken_id: str | None = None
    problem: str | None = None


async def verify(session: AsyncSession, tenant_id: str, anchor: ChainAnchor) -> Verification:
    """The tenant's chain checked (:func:`_verify_once`), read again when it looks truncated.

    The records and the head are read by separate statements, so an append that
    commits between them (a reveal, a consumer's grant revocation) leaves the head
    ahead of the records read: a false ``truncated``. Records really removed from
    the end stay ``truncated`` on every read.
    """
    result = await _verify_once(session, tenant_id, anchor)
    for _ in range(VERIFY_REREADS):
        if result.problem != "truncated":
            break
        session.expire_all()  # the head and records as they are now, not as cached
        result = await _verify_once(session, tenant_id, anchor)
    return result


async def _verify_once(session: AsyncSession, tenant_id: str, anchor: ChainAnchor) -> Verification:
    """Recompute the tenant's chain from the start; name the first record that breaks it.

    The start is the genesis, or the tenant's retention checkpoint when records
    were purged (its MAC must hold: else ``checkpoint_forged``; a prefix gone
    without one is ``checkpoint_missing``). The chain must end at the head, and
    the head must carry a valid MAC: records without one (head deleted,
    rewritten, or never anchored) are not ok.
    """
    expected_sequence, previous_hash, checked = 1, GENESIS_HASH, 0
    last_id: str | None = None
    checkpoint = await session.get(AuditCheckpoint, tenant_id)
    if checkpoint is not None:
        # Records up to the checkpoint were purged for retention: the chain now
        # starts after it, and only a checkpoint whose MAC holds may say so.
        if not await anchor.checkpoint_holds(checkpoint):
            return Verification(False, 0, None, "checkpoint_forged")
        expected_sequence, previous_hash = checkpoint.sequence + 1, checkpoint.hash
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
                # A record before this one was removed; at the very start with no
                # checkpoint, a prefix was removed without one (not by the purge).
                first = checked == 0 and checkpoint is None
                problem = "checkpoint_missing" if first else "sequence_gap"
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
    if checked == 0 and checkpoint is None:
        return Verification(True, 0)
    head = await session.get(AuditChainHead, tenant_id)
    if head is None or head.mac is None:
        # Records without an anchored head: the head was removed (perhaps with
        # the newest records), or never MAC'd. Either way nothing vouches for the end.
        return Verification(False, checked, last_id, "head_missing")
    if not await anchor.holds(tenant_id, head.sequence, head.hash, head.mac):
        return Verification(False, checked, last_id, "head_forged")
    if head.sequence != expected_sequence - 1 or head.hash != previous_hash:
        # Records were removed from the end of the chain.
        return Verification(False, checked, last_id, "truncated")
    return Verification(True, checked)
