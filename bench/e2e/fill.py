"""Table sizes: rows written straight into the services' databases before a measurement.

Only to make tables big, never to change what a request decides:

- audit records are copies of a real one under a *filler tenant*, with their own
  sequence numbers (the benchmark tenant's hash chain stays intact and keeps
  growing through the reveals themselves);
- work orders are copies of a real one of the benchmark tenant, assigned to
  people who do not exist (the dispatcher's list and every index grow; the
  technicians' own jobs stay theirs).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import MetaData, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from fieldvault_platform.db import create_engine

CHUNK = 2000
FILLER_TENANT = "00000000-0000-4000-8000-00000000f111"


async def _table(conn: AsyncConnection, name: str) -> Table:
    return await conn.run_sync(lambda sync: Table(name, MetaData(), autoload_with=sync))


async def _copies(
    database_url: str, table_name: str, template_filter: dict[str, str], rows: int, **fixed: Any
) -> int:
    """Insert ``rows`` copies of the first row matching ``template_filter``; the new total."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            table = await _table(conn, table_name)
            query = select(table).limit(1)
            for column, value in template_filter.items():
                query = query.where(table.c[column] == value)
            template = dict((await conn.execute(query)).one()._mapping)
            start = int((await conn.execute(select(func.count()).select_from(table))).scalar_one())
        for first in range(0, rows, CHUNK):
            batch = []
            for index in range(first, min(rows, first + CHUNK)):
                row = {**template, "id": str(uuid.uuid4()), **fixed}
                if "sequence" in row:
                    row["sequence"] = start + index + 1
                if "assignee_user_id" in row:
                    row["assignee_user_id"] = str(uuid.uuid4())
                batch.append(row)
            async with engine.begin() as conn:
                await conn.execute(insert(table), batch)
        async with engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())
    finally:
        await engine.dispose()


async def add_audit_records(database_url: str, tenant_id: str, rows: int) -> int:
    return await _copies(
        database_url, "audit_records", {"tenant_id": tenant_id}, rows, tenant_id=FILLER_TENANT
    )


async def add_work_orders(database_url: str, tenant_id: str, rows: int) -> int:
    return await _copies(database_url, "work_orders", {"tenant_id": tenant_id}, rows)
