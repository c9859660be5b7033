"""Reading the audit trail: auditors and data protection officers, newest first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from customer_vault.components import Components
from customer_vault.models import AuditRecord
from customer_vault.visibility import Caller
from fieldvault_platform.paging import Keyset

# The chain's sequence number alone: unique, and the order records were written in.
NEWEST_FIRST = Keyset(AuditRecord.sequence, descending=True)


async def list_audit_events(
    c: Components,
    caller: Caller,
    *,
    customer_id: str,
    site_id: str,
    actor_id: str,
    action: str,
    since: datetime | None,
    until: datetime | None,
    requested_size: int,
    page_token: str,
) -> tuple[list[AuditRecord], str]:
    request = NEWEST_FIRST.request(requested_size, page_token)
    query = select(AuditRecord).where(AuditRecord.tenant_id == caller.tenant_id)
    for column, value in (
        (AuditRecord.customer_id, customer_id),
        (AuditRecord.site_id, site_id),
        (AuditRecord.actor_id, actor_id),
        (AuditRecord.action, action),
    ):
        if value:
            query = query.where(column == value)
    if since is not None:
        query = query.where(AuditRecord.occurred_at >= since)
    if until is not None:
        query = query.where(AuditRecord.occurred_at < until)
    async with c.database.unit_of_work() as session:
        return await request.fetch(session, query)
