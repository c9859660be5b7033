"""Dispatching and working a job: assign, start, complete, report unable, cancel.

Each transition goes through :mod:`work_order.lifecycle`, records history and
an event, and queues the grant changes that follow the job, all in one
transaction. The assignee is checked with identity first (outside the
transaction): a person of this tenant who is active and a technician, and —
for a subcontractor — an organisation whose DPA is active; one of the own
company's technicians must also work in the job's area (:mod:`work_order.assignees`).
"""

from __future__ import annotations

from datetime import datetime

from fieldvault_platform import limits
from fieldvault_platform.errors import InvalidArgument, PermissionDenied
from work_order import assignees, changes, returns
from work_order.access import Caller, load
from work_order.components import Components
from work_order.lifecycle import Event, Status, next_status
from work_order.models import WorkOrder
from work_order.peer_clients import Organization, Person


async def _assignee(
    c: Components, caller: Caller, assignee_user_id: str, organization_id: str
) -> tuple[Person | None, Organization]:
    if bool(assignee_user_id) == bool(organization_id):
        raise InvalidArgument("give exactly one of assignee_user_id and organization_id")
    person = None
    if assignee_user_id:
        person = await c.directory.person(caller.tenant_id, assignee_user_id)
        organization_id = person.organization_id
    organization = await c.directory.organization(caller.tenant_id, organization_id)
    if person is None and not organization.subcontractor:
        raise InvalidArgument("assign the own organisation's work to a person")
    refused = assignees.refusal(person, organization, area_id=None)
    if refused is not None:
        raise refused
    return person, organization


async def assign(
    c: Components,
    caller: Caller,
    *,
    work_order_id: str,
    etag: str,
    assignee_user_id: str,
    organization_id: str,
    now: datetime,
) -> WorkOrder:
    person, organization = await _assignee(c, caller, assignee_user_id, organization_id)
    async with changes.changing(c.database) as session:
        order = await load(session, caller, work_order_id)
        if caller.manages(order):
            # A subcontractor manager hands their organisation's job to one of their people.
            if person is None or person.organization_id != caller.principal.organization_id:
                raise PermissionDenied("assign only to people of your own organisation")
        elif not caller.dispatches(order):
            raise PermissionDenied("only the dispatcher of the work order's area assigns it")
        refused = assignees.refusal(person, organization, order.area_id)
        if refused is not None:
            raise refused
        changes.check_etag(etag, order)
        before = order.status
        order.status = next_status(Status(order.status), Event.ASSIGN).value
        if order.assignee_user_id or order.assignee_organization_id:
            changes.queue_revocation_of_assignee(
                session, order, caller, reason="reassigned", now=now
            )
        order.assignee_user_id = person.id if person is not None else None
        order.assignee_organization_id = organization.id
        order.assigned_to_organization = person is None
        order.assignee_subcontractor = organization.subcontractor
        order.updated_at = now
        changes.queue_grant(session, order, caller, c.settings, now)
        changes.record(
            session,
            order,
            caller,
            action="assigned",
            event="assigned",
            from_status=before,
            fields=["assignee"],
            now=now,
        )
    c.wake_relay()
    c.grant_sync.wake()
    return order


async def start(
    c: Components, caller: Caller, *, work_order_id: str, etag: str, now: datetime
) -> WorkOrder:
    return await _by_assignee(c, caller, work_order_id, etag, Event.START, "started", now)


async def complete(
    c: Components, caller: Caller, *, work_order_id: str, etag: str, notes: str, now: datetime
) -> WorkOrder:
    if len(notes) > limits.NOTES:
        raise InvalidArgument(f"notes must be at most {limits.NOTES} characters")
    return await _by_assignee(
        c, caller, work_order_id, etag, Event.COMPLETE, "completed", now, notes=notes.strip()
    )


#: Why an assignee cannot do the job (``ReportWorkOrderUnable``): a fixed list, so
#: the reason can go into messages and events; the details go into ``notes``.
UNABLE_REASONS = ("no_access", "customer_absent", "parts_needed", "unsafe", "other")


async def report_unable(
    c: Components,
    caller: Caller,
    *,
    work_order_id: str,
    etag: str,
    reason: str,
    notes: str,
    now: datetime,
) -> WorkOrder:
    """The assignee gives the job back: to the office queue, unassigned, grant revoked.

    The same path as the service's own returns (:func:`returns.return_to_office`),
    so the area's dispatchers hear of it the same way, with ``unable_<reason>``.
    """
    if reason not in UNABLE_REASONS:
        raise InvalidArgument(f"reason must be one of: {', '.join(UNABLE_REASONS)}")
    if len(notes) > limits.NOTES:
        raise InvalidArgument(f"notes must be at most {limits.NOTES} characters")
    async with changes.changing(c.database) as session:
        order = await load(session, caller, work_order_id)
        if not caller.is_assignee(order):
            raise PermissionDenied("only the assignee can report the work cannot be done")
        changes.check_etag(etag, order)
        next_status(Status(order.status), Event.RETURN)  # refuses a job not assigned or started
        order.unable_notes = notes.strip()
        returns.return_to_office(session, order, reason=f"unable_{reason}", now=now, caller=caller)
    c.wake_relay()
    c.grant_sync.wake()
    return order


async def _by_assignee(
    c: Components,
    caller: Caller,
    work_order_id: str,
    etag: str,
    event: Event,
    name: str,
    now: datetime,
    *,
    notes: str = "",
) -> WorkOrder:
    async with changes.changing(c.database) as session:
        order = await load(session, caller, work_order_id)
        if not caller.is_assignee(order):
            raise PermissionDenied(f"only the assignee can {event.value} the work")
        changes.check_etag(etag, order)
        before = order.status
        order.status = next_status(Status(order.status), event).value
        order.updated_at = now
        if event is Event.COMPLETE:
            order.completion_notes = notes
            changes.queue_revocation_of_assignee(
                session, order, caller, reason="completed", now=now
            )
        changes.record(session, order, caller, action=name, event=name, from_status=before, now=now)
    c.wake_relay()
    c.grant_sync.wake()
    return order


async def cancel(
    c: Components, caller: Caller, *, work_order_id: str, etag: str, reason: str, now: datetime
) -> WorkOrder:
    reason = reason.strip()
    if not reason or len(reason) > limits.HISTORY_REASON:
        raise InvalidArgument(f"reason is required (at most {limits.HISTORY_REASON} characters)")
    async with changes.changing(c.database) as session:
        order = await load(session, caller, work_order_id)
        if not caller.dispatches(order):
            raise PermissionDenied("only the dispatcher of the work order's area cancels it")
        changes.check_etag(etag, order)
        before = order.status
        order.status = next_status(Status(order.status), Event.CANCEL).value
        order.cancel_reason = reason
        order.updated_at = now
        changes.queue_revocation_of_assignee(session, order, caller, reason="cancelled", now=now)
        changes.record(
            session,
            order,
            caller,
            action="cancelled",
            event="cancelled",
            from_status=before,
            now=now,
        )
    c.wake_relay()
    c.grant_sync.wake()
    return order
