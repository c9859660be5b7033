"""What every change to a work order writes besides itself: history, event, grant tasks.

Grant tasks are customer-vault calls queued in the change's own transaction;
:class:`work_order.grant_sync.GrantSync` delivers them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from fieldvault_platform import etags, telemetry
from fieldvault_platform.db import Database, as_utc
from fieldvault_platform.errors import FailedPrecondition
from work_order import events
from work_order.access import Caller
from work_order.models import GrantTask, HistoryEntry, WorkOrder
from work_order.settings import Settings

#: What an assignee may reveal at the site while the job is active.
GRANT_FIELDS = ["door_code", "alarm_code", "key_safe_code"]
#: customer-vault's longest grant (its MAX_GRANT_DAYS default, minus a day of slack).
MAX_GRANT = timedelta(days=61)


def stale() -> FailedPrecondition:
    return etags.stale("the work order")


def check_etag(etag: str, order: WorkOrder) -> None:
    etags.check_etag(etag, order.version, "the work order")


@asynccontextmanager
async def changing(database: Database) -> AsyncIterator[AsyncSession]:
    """A unit of work changing a work order: a concurrent change in between is 412."""
    try:
        async with database.unit_of_work() as session:
            yield session
    except StaleDataError:
        # The UPDATE found another version than the one read (the mapper's version check).
        raise stale() from None


def record(
    session: AsyncSession,
    order: WorkOrder,
    caller: Caller,
    *,
    action: str,
    event: str | None,
    from_status: str | None,
    fields: Sequence[str] = (),
    reason: str | None = None,
    now: datetime,
) -> None:
    session.add(
        HistoryEntry(
            id=str(uuid.uuid4()),
            work_order_id=order.id,
            occurred_at=now,
            actor_id=caller.id,
            action=action,
            from_status=from_status,
            to_status=order.status,
            fields=list(fields),
            reason=reason,
        )
    )
    if event is not None:
        events.work_order_event(session, event, order, actor_id=caller.id, at=now)


def grant_window(order: WorkOrder, settings: Settings, now: datetime) -> tuple[datetime, datetime]:
    """The assignee's grant: the schedule plus margins, or a fixed time from now.

    A scheduled job's grant opens ``GRANT_MARGIN_MINUTES`` before its start (or
    now, if that is later), not at the assignment: a job assigned weeks ahead
    must not let anyone reveal the codes in between. The job stays listed for
    the assignee at once; the reveal waits for the window.
    """
    margin = timedelta(minutes=settings.grant_margin_minutes)
    if order.scheduled_start is not None and order.scheduled_end is not None:
        start = max(now, as_utc(order.scheduled_start) - margin)
        end = max(as_utc(order.scheduled_end) + margin, now + margin)
    else:
        start, end = (
            now - timedelta(minutes=1),
            now + timedelta(hours=settings.unscheduled_grant_hours),
        )
    return max(start, end - MAX_GRANT), end


def queue_grant(
    session: AsyncSession, order: WorkOrder, caller: Caller, settings: Settings, now: datetime
) -> None:
    """Grant (or move the grant of) the current assignee, for the job's window."""
    valid_from, valid_until = grant_window(order, settings, now)
    _queue(
        session,
        order,
        "create",
        {
            "site_id": order.site_id,
            "user_id": "" if order.assigned_to_organization else order.assignee_user_id or "",
            "organization_id": order.assignee_organization_id or "",
            "subcontractor": order.assignee_subcontractor,
            "fields": GRANT_FIELDS,
            "valid_from": valid_from.isoformat(),
            "valid_until": valid_until.isoformat(),
            "acting_user_id": caller.principal.acting_user_id or "",
        },
        now,
    )


def queue_revocation(
    session: AsyncSession,
    order: WorkOrder,
    caller: Caller,
    *,
    user_id: str | None,
    organization_id: str | None,
    whole_organization: bool,
    reason: str,
    now: datetime,
) -> None:
    _queue(
        session,
        order,
        "revoke",
        {
            "user_id": "" if whole_organization else user_id or "",
            "organization_id": (organization_id or "") if whole_organization else "",
            "reason": reason,
            "acting_user_id": caller.principal.acting_user_id or "",
        },
        now,
    )


def queue_revocation_of_assignee(
    session: AsyncSession, order: WorkOrder, caller: Caller, *, reason: str, now: datetime
) -> None:
    if order.assignee_user_id is None and order.assignee_organization_id is None:
        return
    queue_revocation(
        session,
        order,
        caller,
        user_id=order.assignee_user_id,
        organization_id=order.assignee_organization_id,
        whole_organization=order.assigned_to_organization,
        reason=reason,
        now=now,
    )


def _queue(
    session: AsyncSession, order: WorkOrder, kind: str, payload: dict[str, object], now: datetime
) -> None:
    session.add(
        GrantTask(
            tenant_id=order.tenant_id,
            work_order_id=order.id,
            kind=kind,
            # queued_at: when the change happened, for the assignment -> grant
            # latency (fieldvault_grant_delivery_seconds); retries move next_attempt_at.
            payload={**payload, "queued_at": now.isoformat()},
            attempts=0,
            next_attempt_at=now,
            traceparent=telemetry.current_traceparent(),
        )
    )
