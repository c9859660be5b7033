"""The tenant's retention policy: how long each category of data is kept.

Admins change it (``tenant:manage``); auditors and DPOs read it (``audit:read``),
and so does the Art. 30 record. Each change is audited in identity's log and
published whole as ``tenant_retention_policy_changed``, which the purging
services (customer_vault, work_order, notification) keep a copy of. Periods
and their minimums are :mod:`fieldvault_platform.retention`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.etags import check_etag, stale
from fieldvault_platform.retention import RetentionPolicy, validated
from identity import audit, events
from identity.directory.access import Caller
from identity.models import TenantRetentionPolicy


@dataclass(frozen=True, slots=True)
class TenantRetention:
    policy: RetentionPolicy
    #: 0 while the tenant has the defaults.
    version: int
    updated_at: datetime | None


async def get_policy(session: AsyncSession, caller: Caller) -> TenantRetention:
    row = await session.get(TenantRetentionPolicy, caller.tenant_id)
    if row is None:
        return TenantRetention(validated({}), 0, None)
    return TenantRetention(validated(row.days), row.version, row.updated_at)


async def update_policy(
    session: AsyncSession,
    caller: Caller,
    *,
    days: Mapping[str, int],
    etag: str,
    now: datetime,
) -> TenantRetention:
    """Change some periods; each is checked against its minimum (a clear error names it)."""
    row = await session.get(TenantRetentionPolicy, caller.tenant_id, with_for_update=True)
    check_etag(etag, row.version if row is not None else 0)
    stored = dict(row.days) if row is not None else {}
    stored.update(days)
    policy = validated(stored)
    if row is None:
        row = TenantRetentionPolicy(
            tenant_id=caller.tenant_id, days=stored, version=1, updated_at=now
        )
        session.add(row)
    else:
        row.days, row.version, row.updated_at = stored, row.version + 1, now
    try:
        await session.flush()
    except IntegrityError:
        # Two admins setting a tenant's first policy at once: the second is stale.
        raise stale() from None
    audit.record(
        session,
        audit.AuditEntry(
            tenant_id=caller.tenant_id,
            actor=caller.name,
            action="tenant.retention",
            target_id=caller.tenant_id,
        ),
        at=now,
    )
    events.tenant_retention_policy_changed(
        session, tenant_id=caller.tenant_id, days=policy.days, version=row.version, at=now
    )
    return TenantRetention(policy, row.version, now)
