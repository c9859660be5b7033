"""Reading the audit trail: auditors and data protection officers, newest first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from customer_vault.access import Caller
from customer_vault.components import Components
from customer_vault.models import AuditRecord
from fieldvault_platform.errors import InvalidArgument
from fieldvault_platform.paging import decode_page_token, page_of, page_size


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
    size = page_size(requested_size)
    after = decode_page_token(page_token)
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
    if after is not None:
        if not isinstance(after[0], int) or isinstance(after[0], bool):
            raise InvalidArgument("page_token is not one this service issued")
        query = query.where(AuditRecord.sequence < after[0])
    query = query.order_by(AuditRecord.sequence.desc()).limit(size + 1)
    async with c.database.unit_of_work() as session:
        rows = list((await session.scalars(query)).all())
    return page_of(rows, size, lambda row: row.sequence)
