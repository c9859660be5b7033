"""Reading identity's audit log, newest first, a page at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.db import as_utc
from fieldvault_platform.errors import InvalidArgument
from identity.directory.access import Actor, decode_page_token, page_of, page_size
from identity.models import AuditRecord


def _cursor(token: str) -> tuple[datetime, str] | None:
    after = decode_page_token(token)
    if after is None:
        return None
    try:
        occurred_at, record_id = after[0]
        return as_utc(datetime.fromisoformat(str(occurred_at))), str(record_id)
    except (TypeError, ValueError):
        raise InvalidArgument("page_token is not one this service issued") from None


async def list_audit_records(
    session: AsyncSession, actor: Actor, *, requested_size: int, page_token: str
) -> tuple[list[AuditRecord], str]:
    """The tenant's records, newest first.

    The cursor is (time, id), not the time alone: records written in one
    transaction share a timestamp, and a page boundary between them must not
    skip any.
    """
    size = page_size(requested_size)
    cursor = _cursor(page_token)
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
    return page_of(rows, size, lambda row: [as_utc(row.occurred_at).isoformat(), row.id])
