"""Reading identity's audit log, newest first, a page at a time."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.paging import Keyset
from identity.directory.access import Caller
from identity.models import AuditRecord

# (time, id), not the time alone: records written in one transaction share a
# timestamp, and a page boundary between them must not skip any.
NEWEST_FIRST = Keyset(AuditRecord.occurred_at, AuditRecord.id, descending=True)


async def list_audit_records(
    session: AsyncSession, caller: Caller, *, requested_size: int, page_token: str
) -> tuple[list[AuditRecord], str]:
    """The tenant's records, newest first."""
    request = NEWEST_FIRST.request(requested_size, page_token)
    query = select(AuditRecord).where(AuditRecord.tenant_id == caller.tenant_id)
    return await request.fetch(session, query)
