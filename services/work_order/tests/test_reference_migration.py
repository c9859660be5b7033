"""Migration 0006 gives the jobs filed before it their references, per tenant in filing
order, and the counter goes on from there."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from fieldvault_platform.db import Database, create_engine
from fieldvault_platform.migrations import upgrade
from work_order.references import next_reference

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


async def test_existing_jobs_are_numbered_per_tenant_in_filing_order_and_new_ones_follow(
    database_url: str,
) -> None:
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url, "0005")
    filed = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        ("b-second", "tenant-a", filed + timedelta(hours=2)),
        ("a-first", "tenant-a", filed + timedelta(hours=1)),
        ("c-only", "tenant-b", filed),
    ]
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            for order_id, tenant_id, created in rows:
                await connection.execute(
                    sa.text(
                        "INSERT INTO work_orders (id, tenant_id, site_id, area_id, title, "
                        "description, priority, status, assigned_to_organization, "
                        "assignee_subcontractor, completion_notes, cancel_reason, created_by, "
                        "version, created_at, updated_at) VALUES (:id, :tenant, 's', 'a', 't', "
                        "'', 'normal', 'new', false, false, '', '', 'u', 1, :at, :at)"
                    ),
                    {"id": order_id, "tenant": tenant_id, "at": created},
                )
    finally:
        await engine.dispose()

    await asyncio.to_thread(upgrade, MIGRATIONS, database_url)

    database = Database(database_url)
    try:
        async with database.unit_of_work() as session:
            numbered = dict(
                (await session.execute(sa.text("SELECT id, reference FROM work_orders"))).all()
            )
            assert numbered == {
                "a-first": "WO-000001",
                "b-second": "WO-000002",
                "c-only": "WO-000001",
            }
            assert await next_reference(session, "tenant-a") == "WO-000003"
            assert await next_reference(session, "tenant-b") == "WO-000002"
            assert await next_reference(session, "tenant-new") == "WO-000001"
    finally:
        await database.dispose()
