"""Jobs the service itself takes back, on other services' events.

- A deactivated assignee, or a subcontractor whose DPA lapsed (the
  organisation assigned as a whole or through one of its people): their open
  jobs go back to the office queue unassigned, and their grants are revoked.
- A customer erased: the free text of their work orders is cleared.
- A site moved to another area: its open work orders move with it; an assignee
  who may not work there any more gives the job back, the others keep it and
  have their grant delivered again.

Each change is a history entry by ``service:work_order`` with a reason code,
and runs in the consumer's transaction, so a redelivered event changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from work_order import assignees, changes, events
from work_order.access import Caller, system_caller
from work_order.lifecycle import ACTIVE, FINAL, Event, Status, next_status
from work_order.models import WorkOrder
from work_order.peer_clients import Directory
from work_order.settings import Settings

#: The title an erased customer's work orders keep (a title is required):
#: fixed, and saying nothing about the customer or the job.
ERASED_TITLE = "[erased]"


async def _orders(
    session: AsyncSession,
    tenant_id: str,
    statuses: frozenset[Status],
    *conditions: ColumnElement[bool],
) -> Sequence[WorkOrder]:
    query = (
        select(WorkOrder)
        .where(
            WorkOrder.tenant_id == tenant_id,
            WorkOrder.status.in_([status.value for status in statuses]),
            *conditions,
        )
        .order_by(WorkOrder.created_at, WorkOrder.id)
    )
    return (await session.scalars(query)).all()


def return_to_office(
    session: AsyncSession,
    order: WorkOrder,
    *,
    reason: str,
    now: datetime,
    caller: Caller | None = None,
) -> None:
    """Take ``order`` from its assignee: unassigned, ``new`` or ``scheduled``, grant revoked.

    ``caller`` is the service itself, unless the assignee gives the job back
    (:func:`work_order.transitions.report_unable`).
    """
    caller = caller or system_caller(order.tenant_id)
    before = order.status
    previous_user, previous_organization = order.assignee_user_id, order.assignee_organization_id
    changes.queue_revocation_of_assignee(session, order, caller, reason=reason, now=now)
    status = next_status(Status(order.status), Event.RETURN)
    if order.scheduled_start is not None:
        status = next_status(status, Event.SCHEDULE)  # it keeps its date
    order.status = status.value
    order.assignee_user_id = order.assignee_organization_id = None
    order.assigned_to_organization = order.assignee_subcontractor = False
    order.updated_at = now
    changes.record(
        session,
        order,
        caller,
        action="returned",
        event=None,
        from_status=before,
        fields=["assignee"],
        reason=reason,
        now=now,
    )
    events.work_order_returned(
        session,
        order,
        previous_user_id=previous_user,
        previous_organization_id=previous_organization,
        reason=reason,
        at=now,
    )


async def return_jobs_of_user(
    session: AsyncSession, *, tenant_id: str, user_id: str, reason: str, now: datetime
) -> int:
    orders = await _orders(session, tenant_id, ACTIVE, WorkOrder.assignee_user_id == user_id)
    for order in orders:
        return_to_office(session, order, reason=reason, now=now)
    return len(orders)


async def return_jobs_of_organization(
    session: AsyncSession, *, tenant_id: str, organization_id: str, reason: str, now: datetime
) -> int:
    """The organisation's jobs: assigned to it as a whole, or to any of its people."""
    orders = await _orders(
        session, tenant_id, ACTIVE, WorkOrder.assignee_organization_id == organization_id
    )
    for order in orders:
        return_to_office(session, order, reason=reason, now=now)
    return len(orders)


async def anonymise_site_orders(
    session: AsyncSession, *, tenant_id: str, site_ids: Sequence[str], now: datetime
) -> int:
    """Clear the free text of the sites' work orders; ids, statuses and times stay."""
    if not site_ids:
        return 0
    orders = await _orders(
        session, tenant_id, frozenset(Status), WorkOrder.site_id.in_(list(site_ids))
    )
    caller = system_caller(tenant_id)
    for order in orders:
        order.title, order.description = ERASED_TITLE, ""
        order.completion_notes = order.cancel_reason = order.unable_notes = ""
        order.updated_at = now
        changes.record(
            session,
            order,
            caller,
            action="anonymised",
            event=None,
            from_status=order.status,
            fields=["title", "description", "completion_notes", "cancel_reason", "unable_notes"],
            reason="customer_erased",
            now=now,
        )
    return len(orders)


async def move_site_orders(
    session: AsyncSession,
    directory: Directory,
    settings: Settings,
    *,
    tenant_id: str,
    site_id: str,
    area_id: str,
    now: datetime,
) -> int:
    """The site's open work orders follow it into ``area_id``; their assignees are re-checked."""
    moving = (WorkOrder.site_id == site_id, WorkOrder.area_id != area_id)
    orders = await _orders(session, tenant_id, frozenset(Status) - FINAL, *moving)
    caller = system_caller(tenant_id)
    for order in orders:
        order.area_id = area_id
        order.updated_at = now
        changes.record(
            session,
            order,
            caller,
            action="moved",
            event="updated",
            from_status=order.status,
            fields=["area_id"],
            reason="site_moved",
            now=now,
        )
        if Status(order.status) not in ACTIVE:
            continue
        refused = await assignees.current_refusal(directory, order)
        if refused is not None:
            return_to_office(session, order, reason=refused.code, now=now)
        else:
            changes.queue_grant(session, order, caller, settings, now)  # checked again, kept
    return len(orders)
