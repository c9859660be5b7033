"""Areas: the regions or portfolios that scope what dispatchers and technicians see."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.errors import AlreadyExists
from fieldvault_platform.paging import Keyset
from identity import audit
from identity.directory.access import Caller, flush_unique
from identity.directory.people import validate_name
from identity.models import Area

# Names are unique within a tenant, so they are the whole keyset.
BY_NAME = Keyset(Area.name)


async def create_area(session: AsyncSession, caller: Caller, *, name: str, now: datetime) -> Area:
    name = validate_name(name, field="name")
    taken = AlreadyExists("an area with this name exists", code="area_exists")
    clash = await session.scalar(
        select(Area.id).where(Area.tenant_id == caller.tenant_id, Area.name == name)
    )
    if clash is not None:
        raise taken
    area = Area(id=str(uuid.uuid4()), tenant_id=caller.tenant_id, name=name, created_at=now)
    session.add(area)
    await flush_unique(session, taken)
    audit.record(
        session,
        audit.AuditEntry(
            tenant_id=caller.tenant_id, actor=caller.name, action="area.create", target_id=area.id
        ),
        at=now,
    )
    return area


async def list_areas(
    session: AsyncSession, caller: Caller, *, requested_size: int, page_token: str
) -> tuple[list[Area], str]:
    request = BY_NAME.request(requested_size, page_token)
    return await request.fetch(session, select(Area).where(Area.tenant_id == caller.tenant_id))
