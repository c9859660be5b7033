"""Retention purge: inbox entries, and finished e-mail/SMS and webhook deliveries.

* **inbox** — in-app notifications older than the period, read or not.
* **delivery logs** — e-mails and SMS that were sent, failed or skipped, and
  webhook deliveries that were delivered or failed, older than the period.
  A delivery still pending (being retried) is never purged.

Ages count from when the entry was created. Deleting is idempotent: a second
run finds nothing past the period. Logs carry counts only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.db import Database
from fieldvault_platform.retention import DEFAULT_POLICY, DELIVERY_LOGS, INBOX, RetentionPolicy
from notification.models import InboxEntry, MessageDelivery, WebhookDelivery

log = logging.getLogger(__name__)

SERVICE = "notification"
CATEGORIES = (INBOX, DELIVERY_LOGS)
FINISHED_MESSAGES = ("sent", "failed", "skipped")
FINISHED_WEBHOOK_DELIVERIES = ("delivered", "failed")


async def purge_tenant(
    session: AsyncSession, *, tenant_id: str, policy: RetentionPolicy, now: datetime
) -> dict[str, int]:
    inbox = await session.execute(
        delete(InboxEntry).where(
            InboxEntry.tenant_id == tenant_id,
            InboxEntry.created_at < policy.cutoff(INBOX, now),
        )
    )
    logs_cutoff = policy.cutoff(DELIVERY_LOGS, now)
    messages = await session.execute(
        delete(MessageDelivery).where(
            MessageDelivery.tenant_id == tenant_id,
            MessageDelivery.status.in_(FINISHED_MESSAGES),
            MessageDelivery.created_at < logs_cutoff,
        )
    )
    webhooks = await session.execute(
        delete(WebhookDelivery).where(
            WebhookDelivery.tenant_id == tenant_id,
            WebhookDelivery.status.in_(FINISHED_WEBHOOK_DELIVERIES),
            WebhookDelivery.created_at < logs_cutoff,
        )
    )
    return {
        INBOX: int(inbox.rowcount),  # type: ignore[attr-defined]
        DELIVERY_LOGS: int(messages.rowcount) + int(webhooks.rowcount),  # type: ignore[attr-defined]
    }


async def _tenants(session: AsyncSession) -> list[str]:
    tenants: set[str] = set()
    for column in (InboxEntry.tenant_id, MessageDelivery.tenant_id, WebhookDelivery.tenant_id):
        tenants |= set((await session.scalars(select(column).distinct())).all())
    return sorted(tenants)


async def purge(
    database: Database, *, policies: Mapping[str, RetentionPolicy], now: datetime
) -> dict[tuple[str, str], int]:
    async with database.unit_of_work() as session:
        tenants = await _tenants(session)
    counts: dict[tuple[str, str], int] = {}
    for tenant_id in tenants:
        async with database.unit_of_work() as session:
            purged = await purge_tenant(
                session,
                tenant_id=tenant_id,
                policy=policies.get(tenant_id, DEFAULT_POLICY),
                now=now,
            )
        for category, count in purged.items():
            counts[(tenant_id, category)] = count
        log.info("retention purge", extra={"tenant_id": tenant_id, **purged})
    return counts
