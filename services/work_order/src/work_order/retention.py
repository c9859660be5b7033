"""Retention purge: the free text of jobs completed or cancelled longer ago than the period.

As with an erased customer (:func:`work_order.returns.anonymise_site_orders`),
the job itself stays — its id, reference, site, status, times and history —
and only what people wrote is cleared: title (to a fixed marker), description,
completion notes, cancel reason and the assignee's unable notes. Each cleared
job gets a history entry by ``service:work_order`` with reason ``retention``;
no event is published (nothing a subscriber needs to act on).

The age of a job is counted from its last move into ``completed`` or
``cancelled`` in the history. Idempotent: a job already cleared is not
touched again, so a second run clears nothing. Logs carry counts only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.db import Database
from fieldvault_platform.retention import DEFAULT_POLICY, WORK_ORDER_TEXT, RetentionPolicy
from work_order import changes
from work_order.access import system_caller
from work_order.lifecycle import FINAL
from work_order.models import HistoryEntry, WorkOrder
from work_order.returns import ERASED_TITLE

log = logging.getLogger(__name__)

SERVICE = "work_order"
CATEGORIES = (WORK_ORDER_TEXT,)
#: The title a job keeps once its text is past retention.
PURGED_TITLE = "[removed after retention]"
TEXT_FIELDS = ["title", "description", "completion_notes", "cancel_reason", "unable_notes"]


async def purge_tenant(
    session: AsyncSession, *, tenant_id: str, policy: RetentionPolicy, now: datetime
) -> int:
    cutoff = policy.cutoff(WORK_ORDER_TEXT, now)
    final = [str(status) for status in FINAL]
    ended = (
        select(HistoryEntry.work_order_id, func.max(HistoryEntry.occurred_at).label("ended_at"))
        .where(HistoryEntry.to_status.in_(final))
        .where(or_(HistoryEntry.from_status.is_(None), HistoryEntry.from_status.not_in(final)))
        .group_by(HistoryEntry.work_order_id)
        .subquery()
    )
    orders = (
        await session.scalars(
            select(WorkOrder)
            .join(ended, ended.c.work_order_id == WorkOrder.id)
            .where(
                WorkOrder.tenant_id == tenant_id,
                WorkOrder.status.in_(final),
                ended.c.ended_at < cutoff,
                or_(
                    WorkOrder.title.not_in([PURGED_TITLE, ERASED_TITLE]),
                    WorkOrder.description != "",
                    WorkOrder.completion_notes != "",
                    WorkOrder.cancel_reason != "",
                    WorkOrder.unable_notes != "",
                ),
            )
            .order_by(WorkOrder.id)
        )
    ).all()
    caller = system_caller(tenant_id)
    for order in orders:
        if order.title != ERASED_TITLE:
            order.title = PURGED_TITLE
        order.description = order.completion_notes = order.cancel_reason = ""
        order.unable_notes = ""
        order.updated_at = now
        changes.record(
            session,
            order,
            caller,
            action="retention_purged",
            event=None,
            from_status=order.status,
            fields=TEXT_FIELDS,
            reason="retention",
            now=now,
        )
    return len(orders)


async def purge(
    database: Database, *, policies: Mapping[str, RetentionPolicy], now: datetime
) -> dict[tuple[str, str], int]:
    async with database.unit_of_work() as session:
        tenants = sorted(set((await session.scalars(select(WorkOrder.tenant_id).distinct())).all()))
    counts: dict[tuple[str, str], int] = {}
    for tenant_id in tenants:
        async with database.unit_of_work() as session:
            purged = await purge_tenant(
                session,
                tenant_id=tenant_id,
                policy=policies.get(tenant_id, DEFAULT_POLICY),
                now=now,
            )
        counts[(tenant_id, WORK_ORDER_TEXT)] = purged
        log.info("retention purge", extra={"tenant_id": tenant_id, WORK_ORDER_TEXT: purged})
    return counts
