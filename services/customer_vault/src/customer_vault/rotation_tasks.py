"""Rotation tasks: codes (and locks) the office must change, and why.

A task names a site, what to change there (a code kind such as ``door_code``,
or ``lock`` for a physical key), why (a machine code: ``revealed_by_leaver``,
``break_glass``, ``overdue``, ``key_lost`` ...) and since when. It never holds
a value, an address or a name.

:func:`open_rotation_task` is the one way to open a task: it is idempotent by
``dedupe_key`` (unique per tenant; a redelivered event or a second daily run
opens nothing new) and queues ``rotation_task_created`` in the same
transaction, which notification turns into inbox entries and e-mails for the
dispatchers of the site's area, and into the partners' webhook. A task closes
by itself when a new value is stored for its code
(:func:`close_for_new_value`, called by the code write), or by a dispatcher's
hand with a reason (:func:`close_by_hand`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from customer_vault import events
from customer_vault.models import RotationTask, Site

OPEN = "open"
CLOSED = "closed"
STATUSES = (OPEN, CLOSED)
#: A new value was stored for the code.
CLOSED_NEW_VALUE = "new_value"
#: A dispatcher closed it, saying why.
CLOSED_BY_HAND = "by_hand"
#: A physical key's lock (the keys register opens these).
LOCK = "lock"

# Why a task exists (machine codes; the keys register adds its own, e.g. "key_lost").
REVEALED_BY_LEAVER = "revealed_by_leaver"
REVEALED_BY_ORGANIZATION = "revealed_by_organization"
BREAK_GLASS = "break_glass"
OVERDUE = "overdue"

MAX_SUBJECT_LENGTH = 32
MAX_REASON_LENGTH = 32
MAX_DEDUPE_KEY_LENGTH = 200


@dataclass(frozen=True)
class Exposed:
    """Whose exposure opened a task (optional bookkeeping, shown in the task)."""

    user_id: str | None = None
    organization_id: str | None = None
    exposure_id: str | None = None


async def open_rotation_task(
    session: AsyncSession,
    *,
    tenant_id: UUID | str,
    site_id: UUID | str,
    subject: str,
    reason: str,
    since: datetime,
    dedupe_key: str,
    exposed: Exposed | None = None,
    now: datetime | None = None,
) -> RotationTask | None:
    """Open a task unless one with ``dedupe_key`` exists in the tenant (then None).

    Runs in the caller's transaction, with ``rotation_task_created`` queued
    in the outbox beside it. The site must belong to the tenant.
    """
    tenant, site_key = str(tenant_id), str(site_id)
    if not subject or len(subject) > MAX_SUBJECT_LENGTH:
        raise ValueError(f"subject must be 1-{MAX_SUBJECT_LENGTH} characters")
    if not reason or len(reason) > MAX_REASON_LENGTH:
        raise ValueError(f"reason must be 1-{MAX_REASON_LENGTH} characters")
    if not dedupe_key or len(dedupe_key) > MAX_DEDUPE_KEY_LENGTH:
        raise ValueError(f"dedupe_key must be 1-{MAX_DEDUPE_KEY_LENGTH} characters")
    existing = await session.scalar(
        select(RotationTask.id).where(
            RotationTask.tenant_id == tenant, RotationTask.dedupe_key == dedupe_key
        )
    )
    if existing is not None:
        return None
    site = await session.get(Site, site_key)
    if site is None or site.tenant_id != tenant:
        raise LookupError("no such site in this tenant")
    at = now or datetime.now(UTC)
    who = exposed or Exposed()
    task = RotationTask(
        id=str(uuid.uuid4()),
        tenant_id=tenant,
        site_id=site_key,
        area_id=site.area_id,
        subject=subject,
        reason=reason,
        since=since,
        dedupe_key=dedupe_key,
        exposed_user_id=who.user_id,
        exposed_organization_id=who.organization_id,
        exposure_id=who.exposure_id,
        status=OPEN,
        opened_at=at,
    )
    session.add(task)
    await session.flush()
    events.rotation_task_created(
        session,
        tenant_id=tenant,
        task_id=task.id,
        site_id=site_key,
        area_id=site.area_id,
        subject=subject,
        reason=reason,
        since=since,
        exposed_user_id=who.user_id,
        exposed_organization_id=who.organization_id,
        at=at,
    )
    return task


def _close(
    session: AsyncSession,
    task: RotationTask,
    *,
    how: str,
    closed_by: str | None,
    reason: str | None,
    now: datetime,
) -> None:
    task.status = CLOSED
    task.closed_at = now
    task.closed_how = how
    task.closed_by = closed_by
    task.close_reason = reason
    events.rotation_task_closed(
        session,
        tenant_id=task.tenant_id,
        task_id=task.id,
        site_id=task.site_id,
        area_id=task.area_id,
        subject=task.subject,
        reason=task.reason,
        closed_how=how,
        closed_by=closed_by,
        at=now,
    )


async def close_for_new_value(
    session: AsyncSession,
    *,
    tenant_id: str,
    site_id: str,
    subject: str,
    closed_by: str | None,
    now: datetime,
) -> list[RotationTask]:
    """A new value was stored for ``subject`` at the site: its open tasks are done."""
    tasks = (
        await session.scalars(
            select(RotationTask)
            .where(
                RotationTask.tenant_id == tenant_id,
                RotationTask.site_id == site_id,
                RotationTask.subject == subject,
                RotationTask.status == OPEN,
            )
            .order_by(RotationTask.opened_at, RotationTask.id)
            .with_for_update()
        )
    ).all()
    for task in tasks:
        _close(session, task, how=CLOSED_NEW_VALUE, closed_by=closed_by, reason=None, now=now)
    return list(tasks)


async def close_by_hand(
    session: AsyncSession,
    task: RotationTask,
    *,
    closed_by: str,
    reason: str,
    now: datetime,
) -> bool:
    """A dispatcher closes an open task with a reason; False if it was closed already."""
    if task.status != OPEN:
        return False
    _close(session, task, how=CLOSED_BY_HAND, closed_by=closed_by, reason=reason, now=now)
    return True
