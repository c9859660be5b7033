"""Rows → protobuf messages and back (statuses, priorities, timestamps)."""

from __future__ import annotations

from fieldvault.work_order.v1 import work_order_pb2 as pb
from fieldvault_platform.errors import InvalidArgument
from fieldvault_platform.timestamps import to_timestamp
from work_order.models import HistoryEntry, WorkOrder

STATUSES = {
    "new": pb.WORK_ORDER_STATUS_NEW,
    "scheduled": pb.WORK_ORDER_STATUS_SCHEDULED,
    "assigned": pb.WORK_ORDER_STATUS_ASSIGNED,
    "in_progress": pb.WORK_ORDER_STATUS_IN_PROGRESS,
    "completed": pb.WORK_ORDER_STATUS_COMPLETED,
    "cancelled": pb.WORK_ORDER_STATUS_CANCELLED,
}
PRIORITIES = {
    "low": pb.PRIORITY_LOW,
    "normal": pb.PRIORITY_NORMAL,
    "high": pb.PRIORITY_HIGH,
    "urgent": pb.PRIORITY_URGENT,
}
_STATUS_NAMES: dict[int, str] = {int(number): name for name, number in STATUSES.items()}
_PRIORITY_NAMES: dict[int, str] = {int(number): name for name, number in PRIORITIES.items()}


def status_name(value: int) -> str:
    """The status filter: "" for unspecified."""
    if value == pb.WORK_ORDER_STATUS_UNSPECIFIED:
        return ""
    try:
        return _STATUS_NAMES[value]
    except KeyError:
        raise InvalidArgument("status is not a known work order status") from None


def priority_name(value: int) -> str:
    """The priority: "" for unspecified (unchanged, or the default on create)."""
    if value == pb.PRIORITY_UNSPECIFIED:
        return ""
    try:
        return _PRIORITY_NAMES[value]
    except KeyError:
        raise InvalidArgument("priority is not a known priority") from None


def work_order_message(order: WorkOrder) -> pb.WorkOrder:
    return pb.WorkOrder(
        id=order.id,
        tenant_id=order.tenant_id,
        site_id=order.site_id,
        area_id=order.area_id,
        title=order.title,
        description=order.description,
        priority=PRIORITIES[order.priority],
        status=STATUSES[order.status],
        scheduled_start=to_timestamp(order.scheduled_start),
        scheduled_end=to_timestamp(order.scheduled_end),
        assignee_user_id=order.assignee_user_id or "",
        assignee_organization_id=order.assignee_organization_id or "",
        created_by=order.created_by,
        create_time=to_timestamp(order.created_at),
        update_time=to_timestamp(order.updated_at),
        etag=f'"{order.version}"',
        completion_notes=order.completion_notes,
        cancel_reason=order.cancel_reason,
        reference=order.reference,
        unable_notes=order.unable_notes,
    )


def history_message(entry: HistoryEntry) -> pb.HistoryEntry:
    return pb.HistoryEntry(
        id=entry.id,
        occur_time=to_timestamp(entry.occurred_at),
        actor_id=entry.actor_id,
        action=entry.action,
        from_status=(
            STATUSES[entry.from_status] if entry.from_status else pb.WORK_ORDER_STATUS_UNSPECIFIED
        ),
        to_status=STATUSES[entry.to_status],
        fields=list(entry.fields),
        reason=entry.reason or "",
    )
