"""Retention purge: ended grants, and the oldest audit records behind a signed checkpoint.

Run daily by ``python -m customer_vault purge-retention`` (a CronJob) **as the
database owner**: the runtime role may not delete audit records, and the
database's guard lets a DELETE through only for records a checkpoint covers.

For each tenant, in one transaction per category:

* **ended grants** — grants revoked, or expired, longer ago than the period are
  deleted (the audit trail keeps that they existed and were used).
* **audit records** — the chain is locked (no append can interleave) and
  verified first: a broken chain is never laundered into a checkpoint, it is
  left for an auditor and reported as a problem code. Then the longest prefix
  of records older than the period is cut: the checkpoint (the last cut
  record's sequence, hash and time, MAC'd with the tenant's Transit key) is
  written, then the prefix deleted. :func:`customer_vault.audit.verify` starts
  from the checkpoint, so the rest still proves itself.

Idempotent: what is past its period now is gone after a run, so a second run
finds nothing. Logs carry counts and tenant ids only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from customer_vault.audit import ChainAnchor, lock_chain, verify
from customer_vault.models import AuditChainHead, AuditCheckpoint, AuditRecord, Grant
from fieldvault_platform.db import Database
from fieldvault_platform.retention import (
    AUDIT_RECORDS,
    DEFAULT_POLICY,
    ENDED_GRANTS,
    RetentionPolicy,
)

log = logging.getLogger(__name__)

SERVICE = "customer_vault"
CATEGORIES = (ENDED_GRANTS, AUDIT_RECORDS)


@dataclass(frozen=True, slots=True)
class AuditPurge:
    purged: int
    #: Why nothing was purged although records may be past retention (a broken chain).
    problem: str | None = None


async def purge_ended_grants(
    session: AsyncSession, *, tenant_id: str, policy: RetentionPolicy, now: datetime
) -> int:
    cutoff = policy.cutoff(ENDED_GRANTS, now)
    result = await session.execute(
        delete(Grant).where(
            Grant.tenant_id == tenant_id,
            or_(Grant.valid_until < cutoff, Grant.revoked_at < cutoff),
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def purge_audit_records(
    session: AsyncSession,
    anchor: ChainAnchor,
    *,
    tenant_id: str,
    policy: RetentionPolicy,
    now: datetime,
) -> AuditPurge:
    cutoff = policy.cutoff(AUDIT_RECORDS, now)
    await lock_chain(session, tenant_id)
    # The first record still inside the period ends the prefix: records are cut
    # in chain order only, so the kept part is one unbroken chain.
    first_kept = await session.scalar(
        select(AuditRecord.sequence)
        .where(AuditRecord.tenant_id == tenant_id, AuditRecord.occurred_at >= cutoff)
        .order_by(AuditRecord.sequence)
        .limit(1)
    )
    prefix = select(AuditRecord).where(AuditRecord.tenant_id == tenant_id)
    if first_kept is not None:
        prefix = prefix.where(AuditRecord.sequence < first_kept)
    last = (await session.scalars(prefix.order_by(AuditRecord.sequence.desc()).limit(1))).first()
    if last is None:
        return AuditPurge(0)
    verification = await verify(session, tenant_id, anchor)
    if not verification.ok:
        return AuditPurge(0, verification.problem or "chain_broken")
    mac = await anchor.mac_checkpoint(tenant_id, last.sequence, last.hash, last.occurred_at)
    checkpoint = await session.get(AuditCheckpoint, tenant_id)
    if checkpoint is None:
        session.add(
            AuditCheckpoint(
                tenant_id=tenant_id,
                sequence=last.sequence,
                hash=last.hash,
                occurred_at=last.occurred_at,
                purged_at=now,
                mac=mac,
            )
        )
    else:
        checkpoint.sequence, checkpoint.hash = last.sequence, last.hash
        checkpoint.occurred_at, checkpoint.purged_at, checkpoint.mac = last.occurred_at, now, mac
    # The checkpoint must be in the table before the guard is asked about the delete.
    await session.flush()
    result = await session.execute(
        delete(AuditRecord).where(
            AuditRecord.tenant_id == tenant_id, AuditRecord.sequence <= last.sequence
        )
    )
    return AuditPurge(int(result.rowcount))  # type: ignore[attr-defined]


async def _tenants(session: AsyncSession) -> list[str]:
    heads = (await session.scalars(select(AuditChainHead.tenant_id))).all()
    granted = (await session.scalars(select(Grant.tenant_id).distinct())).all()
    return sorted(set(heads) | set(granted))


async def purge(
    database: Database,
    anchor: ChainAnchor,
    *,
    policies: Mapping[str, RetentionPolicy],
    now: datetime,
) -> dict[tuple[str, str], int]:
    """Purge every tenant by its policy (the default where it has none); counts per category."""
    async with database.unit_of_work() as session:
        tenants = await _tenants(session)
    counts: dict[tuple[str, str], int] = {}
    for tenant_id in tenants:
        policy = policies.get(tenant_id, DEFAULT_POLICY)
        async with database.unit_of_work() as session:
            counts[(tenant_id, ENDED_GRANTS)] = await purge_ended_grants(
                session, tenant_id=tenant_id, policy=policy, now=now
            )
        async with database.unit_of_work() as session:
            audit = await purge_audit_records(
                session, anchor, tenant_id=tenant_id, policy=policy, now=now
            )
        counts[(tenant_id, AUDIT_RECORDS)] = audit.purged
        if audit.problem is not None:
            log.warning(
                "audit records of a tenant not purged: its chain does not verify",
                extra={"tenant_id": tenant_id, "problem": audit.problem},
            )
        log.info(
            "retention purge",
            extra={
                "tenant_id": tenant_id,
                "ended_grants": counts[(tenant_id, ENDED_GRANTS)],
                "audit_records": audit.purged,
            },
        )
    return counts
