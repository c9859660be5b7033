"""Reading identity's audit log, newest first, a page at a time."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.paging import (
    decode_page_token,
    page_of,
    page_size,
    time_id_cursor,
    time_id_position,
)
from identity.directory.access import Actor
from identity.models import AuditRecord


async def list_audit_records(
    session: AsyncSession, actor: Actor, *, requested_size: int, page_token: str
) -> tuple[list[AuditRecord], str]:
    """The tenant's records, newest first.

    The cursor is (time, id), not the time alone: records written in one
    transaction share a timestamp, and a page boundary between them must not
    skip any.
    """
    size = page_size(requested_size)
    after = decode_page_token(page_token)
    cursor = time_id_cursor(after) if after is not None else None
    query = select(AuditRecord).where(AuditRecord.tenant_id == actor.tenant_id)
    if cursor is not None:
        occurred_at, record_id = cursor
        query = query.where(
            or_(
                AuditRecord.occurred_at < occurred_at,
                and_(AuditRecord.occurred_at == occurred_at, AuditRecord.id < record_id),
            )
        )
    query = query.order_by(AuditRecord.occurred_at.desc(), AuditRecord.id.desc()).limit(size + 1)
    rows = list((await session.scalars(query)).all())
    return page_of(rows, size, lambda row: time_id_position(row.occurred_at, row.id))
