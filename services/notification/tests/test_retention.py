"""Retention purge of notification: inbox entries and finished deliveries past the
tenant's periods are deleted; pending deliveries and younger entries stay."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from fieldvault_platform.db import Database
from fieldvault_platform.migrations import upgrade
from fieldvault_platform.retention import (
    DELIVERY_LOGS,
    INBOX,
    apply_policy_change,
    tenant_policies,
)
from notification import retention
from notification.models import InboxEntry, MessageDelivery, WebhookDelivery

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
NOW = datetime.now(UTC)
CANARY = "Canary alarm 90210 at Ravensworth Close"


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url)
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


async def inbox(database: Database, tenant_id: str, days_ago: int) -> str:
    entry_id = str(uuid.uuid4())
    async with database.unit_of_work() as session:
        session.add(
            InboxEntry(
                id=entry_id,
                tenant_id=tenant_id,
                user_id="user-1",
                event_id=str(uuid.uuid4()),
                type="work_order.assigned",
                subject=CANARY,
                body=CANARY,
                link="/jobs/1",
                created_at=NOW - timedelta(days=days_ago),
            )
        )
    return entry_id


async def message(database: Database, tenant_id: str, days_ago: int, status: str) -> str:
    delivery_id = str(uuid.uuid4())
    at = NOW - timedelta(days=days_ago)
    async with database.unit_of_work() as session:
        session.add(
            MessageDelivery(
                id=delivery_id,
                tenant_id=tenant_id,
                user_id="user-1",
                event_id=str(uuid.uuid4()),
                channel="email",
                kind="notification",
                subject=CANARY,
                body=CANARY,
                status=status,
                next_attempt_at=at,
                created_at=at,
            )
        )
    return delivery_id


async def webhook_delivery(database: Database, tenant_id: str, days_ago: int, status: str) -> str:
    delivery_id = str(uuid.uuid4())
    at = NOW - timedelta(days=days_ago)
    async with database.unit_of_work() as session:
        session.add(
            WebhookDelivery(
                id=delivery_id,
                tenant_id=tenant_id,
                webhook_id=str(uuid.uuid4()),
                event_id=str(uuid.uuid4()),
                event_type="work_order.completed",
                body=CANARY.encode(),
                status=status,
                next_attempt_at=at,
                created_at=at,
            )
        )
    return delivery_id


async def remaining(database: Database, tenant_id: str) -> set[str]:
    async with database.unit_of_work() as session:
        ids: set[str] = set()
        for model in (InboxEntry, MessageDelivery, WebhookDelivery):
            rows = await session.scalars(select(model.id).where(model.tenant_id == tenant_id))
            ids |= set(rows.all())
        return ids


async def purge_now(database: Database) -> dict[tuple[str, str], int]:
    async with database.unit_of_work() as session:
        policies = await tenant_policies(session)
    return await retention.purge(database, policies=policies, now=NOW)


async def test_a_purge_removes_exactly_what_the_policy_says_and_a_second_run_nothing(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    tenant, strict = f"t-{uuid.uuid4().hex[:10]}", f"t-{uuid.uuid4().hex[:10]}"
    # Defaults: inbox 180 days, delivery logs 90 days.
    gone = {
        await inbox(database, tenant, 200),
        await message(database, tenant, 100, "sent"),
        await message(database, tenant, 91, "skipped"),
        await webhook_delivery(database, tenant, 120, "delivered"),
        await webhook_delivery(database, tenant, 95, "failed"),
    }
    kept = {
        await inbox(database, tenant, 170),
        await message(database, tenant, 80, "sent"),
        await message(database, tenant, 300, "pending"),  # still being retried
        await webhook_delivery(database, tenant, 300, "pending"),
        await webhook_delivery(database, tenant, 10, "delivered"),
    }
    strict_gone = {
        await inbox(database, strict, 10),
        await webhook_delivery(database, strict, 10, "delivered"),
    }
    strict_kept = {await inbox(database, strict, 5), await message(database, strict, 5, "sent")}
    async with database.unit_of_work() as session:
        await apply_policy_change(
            session, tenant_id=strict, days={INBOX: 7, DELIVERY_LOGS: 7}, version=1, now=NOW
        )
    caplog.set_level(logging.DEBUG)

    counts = await purge_now(database)

    assert (counts[(tenant, INBOX)], counts[(tenant, DELIVERY_LOGS)]) == (1, 4)
    assert (counts[(strict, INBOX)], counts[(strict, DELIVERY_LOGS)]) == (1, 1)
    assert await remaining(database, tenant) == kept
    assert await remaining(database, strict) == strict_kept
    assert not gone & await remaining(database, tenant)
    assert not strict_gone & await remaining(database, strict)

    again = await purge_now(database)
    assert {key: again[key] for key in counts if key[0] in (tenant, strict)} == {
        (tenant, INBOX): 0,
        (tenant, DELIVERY_LOGS): 0,
        (strict, INBOX): 0,
        (strict, DELIVERY_LOGS): 0,
    }
    assert any(record.getMessage() == "retention purge" for record in caplog.records)
    for record in caplog.records:
        assert CANARY.lower() not in (record.getMessage() + repr(record.__dict__)).lower()
