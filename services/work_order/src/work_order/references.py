"""A work order's reference: the tenant's own short name for the job.

``WO-000123``: a number per tenant, counted up when the job is filed, so it is
stable, unique within the tenant, speakable on the phone and searchable
(``GET /v1/work-orders?reference=WO-000123``; ``wo-123`` and ``123`` find the
same job). It says nothing about the customer or the job, so messages may
print it.

The counter is one row per tenant, advanced by a single
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` in the filing transaction:
atomic on PostgreSQL (the row is locked until commit) and on SQLite (one
writer), so two jobs filed at once never get the same number.
"""

from __future__ import annotations

import re
from typing import Any, Final

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.errors import InvalidArgument
from work_order.models import ReferenceCounter

PREFIX: Final = "WO-"
_TYPED = re.compile(r"^(?:WO-?)?0*([0-9]{1,9})$")


def render(number: int) -> str:
    return f"{PREFIX}{number:06d}"


def normalise(typed: str) -> str:
    """The reference a person typed (any case, with or without ``WO-`` and zeros)."""
    match = _TYPED.match(typed.strip().upper())
    if match is None:
        raise InvalidArgument("reference must look like WO-000123")
    return render(int(match.group(1)))


def _insert_for(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise RuntimeError(f"work order references need PostgreSQL or SQLite, not {dialect}")


async def next_reference(session: AsyncSession, tenant_id: str) -> str:
    """The tenant's next reference, counted in ``session``'s transaction."""
    statement = (
        _insert_for(session)(ReferenceCounter)
        .values(tenant_id=tenant_id, last_number=1)
        .on_conflict_do_update(
            index_elements=[ReferenceCounter.tenant_id],
            set_={"last_number": ReferenceCounter.last_number + 1},
        )
        .returning(ReferenceCounter.last_number)
    )
    number = (await session.execute(statement)).scalar_one()
    return render(int(number))
