"""Filing, reading and editing work orders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from fieldvault_platform import limits
from fieldvault_platform.errors import InvalidArgument, PermissionDenied
from fieldvault_platform.paging import Keyset
from work_order import changes, references
from work_order.access import Caller, load, visible
from work_order.components import Components
from work_order.lifecycle import ACTIVE, Event, Status, next_status
from work_order.models import HistoryEntry, WorkOrder

PRIORITIES = ("low", "normal", "high", "urgent")
OLDEST_FIRST = Keyset(WorkOrder.created_at, WorkOrder.id)


@dataclass(frozen=True)
class Schedule:
    start: datetime | None
    end: datetime | None

    def check(self) -> Schedule:
        if (self.start is None) != (self.end is None):
            raise InvalidArgument("give both scheduled_start and scheduled_end, or neither")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise InvalidArgument("scheduled_end must be after scheduled_start")
        return self


def _title(value: str) -> str:
    title = value.strip()
    if not title or len(title) > limits.TITLE or not title.isprintable():
        raise InvalidArgument(f"title must be 1-{limits.TITLE} printable characters")
    return title


def _description(value: str) -> str:
    if len(value) > limits.NOTES:
        raise InvalidArgument(f"description must be at most {limits.NOTES} characters")
    return value.strip()


def _priority(value: str) -> str:
    if value not in PRIORITIES:
        raise InvalidArgument(f"priority must be one of: {', '.join(PRIORITIES)}")
    return value


async def create(
    c: Components,
    caller: Caller,
    *,
    site_id: str,
    title: str,
    description: str,
    priority: str,
    schedule: Schedule,
    now: datetime,
) -> WorkOrder:
    if not (caller.is_client or caller.has_role("dispatcher")):
        raise PermissionDenied("only dispatchers and partner systems file work orders")
    values = (_title(title), _description(description), _priority(priority or "normal"))
    schedule.check()
    if not site_id or len(site_id) > 36:
        raise InvalidArgument("site_id is required")
    site = await c.directory.locate_site(caller.tenant_id, site_id)
    order = WorkOrder(
        id=str(uuid.uuid4()),
        tenant_id=caller.tenant_id,
        site_id=site.site_id,
        area_id=site.area_id,
        title=values[0],
        description=values[1],
        priority=values[2],
        status=Status.NEW.value,
        scheduled_start=schedule.start,
        scheduled_end=schedule.end,
        created_by=caller.id,
        version=1,
        created_at=now,
        updated_at=now,
    )
    if not caller.dispatches(order):
        # Not "not found": the dispatcher named the site, and learns only that it is not theirs.
        raise PermissionDenied("the site is not in one of your areas")
    async with c.database.unit_of_work() as session:
        order.reference = await references.next_reference(session, caller.tenant_id)
        session.add(order)
        await session.flush()  # the history rows refer to it
        changes.record(
            session, order, caller, action="created", event="created", from_status=None, now=now
        )
        if schedule.start is not None:
            order.status = next_status(Status.NEW, Event.SCHEDULE).value
            changes.record(
                session,
                order,
                caller,
                action="scheduled",
                event="scheduled",
                from_status=Status.NEW.value,
                fields=["scheduled_start", "scheduled_end"],
                now=now,
            )
    c.wake_relay()
    return order


async def get(c: Components, caller: Caller, *, work_order_id: str) -> WorkOrder:
    async with c.database.unit_of_work() as session:
        return await load(session, caller, work_order_id)


@dataclass(frozen=True)
class Filters:
    status: str = ""
    area_id: str = ""
    assignee_id: str = ""
    site_id: str = ""
    scheduled_from: datetime | None = None
    scheduled_until: datetime | None = None
    #: As typed ("wo-123"); normalised when the query is built.
    reference: str = ""


async def list_work_orders(
    c: Components,
    caller: Caller,
    *,
    filters: Filters,
    requested_size: int,
    page_token: str,
    mine: bool = False,
) -> tuple[list[WorkOrder], str]:
    request = OLDEST_FIRST.request(requested_size, page_token)
    query = select(WorkOrder).where(visible(caller))
    if mine:
        query = query.where(
            WorkOrder.assignee_user_id == caller.id,
            WorkOrder.status.in_([status.value for status in ACTIVE]),
        )
    for column, value in (
        (WorkOrder.status, filters.status),
        (WorkOrder.area_id, filters.area_id),
        (WorkOrder.assignee_user_id, filters.assignee_id),
        (WorkOrder.site_id, filters.site_id),
        (WorkOrder.reference, references.normalise(filters.reference) if filters.reference else ""),
    ):
        if value:
            query = query.where(column == value)
    if filters.scheduled_from is not None:
        query = query.where(WorkOrder.scheduled_start >= filters.scheduled_from)
    if filters.scheduled_until is not None:
        query = query.where(WorkOrder.scheduled_start < filters.scheduled_until)
    async with c.database.unit_of_work() as session:
        return await request.fetch(session, query)


async def update(
    c: Components,
    caller: Caller,
    *,
    work_order_id: str,
    etag: str,
    title: str | None,
    description: str | None,
    priority: str,
    schedule: Schedule | None,
    now: datetime,
) -> WorkOrder:
    if schedule is not None:
        schedule.check()
    async with changes.changing(c.database) as session:
        order = await load(session, caller, work_order_id)
        if not caller.dispatches(order):
            raise PermissionDenied("only the dispatcher of the work order's area edits it")
        changes.check_etag(etag, order)
        touched: list[str] = []
        if title is not None:
            order.title = _title(title)
            touched.append("title")
        if description is not None:
            order.description = _description(description)
            touched.append("description")
        if priority:
            order.priority = _priority(priority)
            touched.append("priority")
        before = order.status
        if schedule is not None:
            order.status = next_status(Status(order.status), Event.SCHEDULE).value
            order.scheduled_start, order.scheduled_end = schedule.start, schedule.end
            touched += ["scheduled_start", "scheduled_end"]
        if not touched:
            raise InvalidArgument("nothing to change")
        order.updated_at = now
        event = "scheduled" if schedule is not None else "updated"
        changes.record(
            session,
            order,
            caller,
            action=event,
            event=event,
            from_status=before,
            fields=touched,
            now=now,
        )
        if schedule is not None and Status(order.status) in ACTIVE:
            changes.queue_grant(session, order, caller, c.settings, now)  # the window moves
    c.wake_relay()
    c.grant_sync.wake()
    return order


async def history(c: Components, caller: Caller, *, work_order_id: str) -> list[HistoryEntry]:
    async with c.database.unit_of_work() as session:
        order = await load(session, caller, work_order_id)
        rows = await session.scalars(
            select(HistoryEntry)
            .where(HistoryEntry.work_order_id == order.id)
            .order_by(HistoryEntry.sequence)
        )
        return list(rows.all())
