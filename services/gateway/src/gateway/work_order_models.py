"""REST shapes of work_order's resources (docs/openapi.json), read from protobuf by from_proto.

Statuses and priorities are lower-case names; timestamps are RFC 3339 UTC, or
``null`` when unset; optional text the service holds as an empty string is ``null``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from fieldvault.work_order.v1 import work_order_pb2 as pb
from gateway.customer_vault_models import SecretKindName
from gateway.from_proto import ProtoModel

StatusName = Literal["new", "scheduled", "assigned", "in_progress", "completed", "cancelled"]
PriorityName = Literal["low", "normal", "high", "urgent"]

_STATUS_BY_NAME: dict[StatusName, pb.WorkOrderStatus] = {
    "new": pb.WORK_ORDER_STATUS_NEW,
    "scheduled": pb.WORK_ORDER_STATUS_SCHEDULED,
    "assigned": pb.WORK_ORDER_STATUS_ASSIGNED,
    "in_progress": pb.WORK_ORDER_STATUS_IN_PROGRESS,
    "completed": pb.WORK_ORDER_STATUS_COMPLETED,
    "cancelled": pb.WORK_ORDER_STATUS_CANCELLED,
}
_PRIORITY_BY_NAME: dict[PriorityName, pb.Priority] = {
    "low": pb.PRIORITY_LOW,
    "normal": pb.PRIORITY_NORMAL,
    "high": pb.PRIORITY_HIGH,
    "urgent": pb.PRIORITY_URGENT,
}


def status(name: StatusName | None) -> pb.WorkOrderStatus:
    """The status filter; ``None`` is no filter (UNSPECIFIED)."""
    return pb.WORK_ORDER_STATUS_UNSPECIFIED if name is None else _STATUS_BY_NAME[name]


def priority(name: PriorityName | None) -> pb.Priority:
    """The priority; ``None`` is UNSPECIFIED, which an update reads as "unchanged"."""
    return pb.PRIORITY_UNSPECIFIED if name is None else _PRIORITY_BY_NAME[name]


class WorkOrder(ProtoModel):
    id: str
    tenant_id: str
    #: The tenant's short name for the job, e.g. ``WO-000123`` (stable; what messages print).
    reference: str
    site_id: str
    #: The site's area when the work order was filed.
    area_id: str
    title: str
    description: str | None
    priority: PriorityName
    status: StatusName
    scheduled_start: datetime | None
    scheduled_end: datetime | None
    #: The assignee: a user, or (user null) a subcontractor organisation as a whole.
    assignee_user_id: str | None
    assignee_organization_id: str | None
    #: A user id, or ``client:<id>`` for a partner system.
    created_by: str
    completion_notes: str | None
    cancel_reason: str | None
    #: What the assignee told the office when they reported the job cannot be done.
    unable_notes: str | None
    created_at: datetime | None
    updated_at: datetime | None
    etag: str

    proto_names = {"created_at": "create_time", "updated_at": "update_time"}


class HistoryEntry(ProtoModel):
    id: str
    occurred_at: datetime | None
    actor_id: str
    #: ``created``, ``updated``, ``scheduled``, ``assigned``, ``started``, ``completed``,
    #: ``cancelled``; the service's own ``returned``, ``moved``, ``anonymised``.
    action: str
    #: Null for the entry that created the work order.
    from_status: StatusName | None
    to_status: StatusName
    #: Names of the fields the change touched.
    fields: list[str]
    #: Why the service itself made the change (``user_deactivated``, ``dpa_inactive``,
    #: ``assignee_not_in_area``, ``site_moved``, ``customer_erased``); null for a
    #: person's or a partner's change.
    reason: str | None = None

    proto_names = {"occurred_at": "occur_time"}


class SiteSummary(BaseModel):
    """Where a job is and what to expect there: never a secret's value, only which
    kinds of code are kept (so a technician knows what to ask for before arriving)."""

    id: str
    name: str
    address: str
    #: How to get in (ring at the back, key safe left of the door); null if none.
    access_instructions: str | None = None
    #: The kinds of code kept for the site (names only: a value needs a reveal).
    code_kinds: list[SecretKindName] = []


class MyWorkOrder(WorkOrder):
    """One of the caller's own jobs, with where it is; ``site`` is null when the caller
    may not see the site (yet) or it could not be read."""

    site: SiteSummary | None

    @classmethod
    def joined(cls, order: pb.WorkOrder, site: SiteSummary | None) -> MyWorkOrder:
        return cls(**WorkOrder.of(order).model_dump(), site=site)
