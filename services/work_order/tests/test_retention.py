"""Retention purge of work_order: the free text of jobs that ended longer ago than the
tenant's period is cleared; the jobs, their statuses and history stay."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fieldvault_platform.db import Database
from fieldvault_platform.events import OutboxEvent
from fieldvault_platform.migrations import upgrade
from fieldvault_platform.retention import WORK_ORDER_TEXT, apply_policy_change, tenant_policies
from work_order import retention
from work_order.models import HistoryEntry, WorkOrder

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
NOW = datetime.now(UTC)
CANARY = "Canary gate code 5521 behind the Quimby shed"


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url)
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


async def job(
    database: Database, tenant_id: str, *, status: str, ended_days_ago: int | None
) -> str:
    """A job with free text; it reached ``status`` that many days ago."""
    order_id = str(uuid.uuid4())
    ended = NOW - timedelta(days=ended_days_ago or 0)
    created = ended - timedelta(days=3)
    async with database.unit_of_work() as session:
        session.add(
            WorkOrder(
                id=order_id,
                tenant_id=tenant_id,
                reference=f"WO-{uuid.uuid4().hex[:8]}",
                site_id="site-1",
                area_id="area-1",
                title=f"Fix the lock {CANARY}",
                description=CANARY,
                priority="normal",
                status=status,
                completion_notes=CANARY if status == "completed" else "",
                cancel_reason=CANARY if status == "cancelled" else "",
                unable_notes=CANARY,
                created_by="user-1",
                created_at=created,
                updated_at=ended,
            )
        )
        await session.flush()
        steps = [(None, "new", created)]
        if ended_days_ago is not None:
            steps.append(("in_progress" if status == "completed" else "new", status, ended))
        for from_status, to_status, at in steps:
            session.add(
                HistoryEntry(
                    id=str(uuid.uuid4()),
                    work_order_id=order_id,
                    occurred_at=at,
                    actor_id="user-1",
                    action=to_status,
                    from_status=from_status,
                    to_status=to_status,
                    fields=[],
                )
            )
    return order_id


async def texts(database: Database, order_id: str) -> tuple[str, ...]:
    async with database.unit_of_work() as session:
        order = await session.get(WorkOrder, order_id)
        assert order is not None
        return (
            order.title,
            order.description,
            order.completion_notes,
            order.cancel_reason,
            order.unable_notes,
            order.status,
        )


async def purge_now(database: Database) -> dict[tuple[str, str], int]:
    async with database.unit_of_work() as session:
        policies = await tenant_policies(session)
    return await retention.purge(database, policies=policies, now=NOW)


async def test_a_purge_clears_exactly_the_text_the_policy_says_and_a_second_run_nothing(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    tenant, strict = f"t-{uuid.uuid4().hex[:10]}", f"t-{uuid.uuid4().hex[:10]}"
    # Default: two years (730 days) after completion or cancellation.
    old_completed = await job(database, tenant, status="completed", ended_days_ago=800)
    old_cancelled = await job(database, tenant, status="cancelled", ended_days_ago=731)
    recent = await job(database, tenant, status="completed", ended_days_ago=700)
    open_old = await job(database, tenant, status="in_progress", ended_days_ago=None)
    strict_old = await job(database, strict, status="completed", ended_days_ago=100)
    strict_recent = await job(database, strict, status="completed", ended_days_ago=10)
    async with database.unit_of_work() as session:
        await apply_policy_change(
            session, tenant_id=strict, days={WORK_ORDER_TEXT: 30}, version=1, now=NOW
        )
        outbox_before = await session.scalar(select(func.count()).select_from(OutboxEvent))
    caplog.set_level(logging.DEBUG)

    counts = await purge_now(database)

    assert (counts[(tenant, WORK_ORDER_TEXT)], counts[(strict, WORK_ORDER_TEXT)]) == (2, 1)
    cleared = (retention.PURGED_TITLE, "", "", "", "")
    assert (await texts(database, old_completed))[:5] == cleared
    assert (await texts(database, old_cancelled))[:5] == cleared
    assert (await texts(database, strict_old))[:5] == cleared
    assert (await texts(database, old_completed))[5] == "completed"  # the job stays
    for kept in (recent, open_old, strict_recent):
        assert CANARY in (await texts(database, kept))[1]
    async with database.unit_of_work() as session:
        history = (
            await session.scalars(
                select(HistoryEntry).where(
                    HistoryEntry.work_order_id == old_completed,
                    HistoryEntry.action == "retention_purged",
                )
            )
        ).all()
        assert [entry.reason for entry in history] == ["retention"]
        outbox_after = await session.scalar(select(func.count()).select_from(OutboxEvent))
    assert outbox_after == outbox_before, "the purge publishes no event"

    again = await purge_now(database)
    assert (again[(tenant, WORK_ORDER_TEXT)], again[(strict, WORK_ORDER_TEXT)]) == (0, 0)
    for record in caplog.records:
        assert CANARY.lower() not in (record.getMessage() + repr(record.__dict__)).lower()
    assert any(record.getMessage() == "retention purge" for record in caplog.records)
