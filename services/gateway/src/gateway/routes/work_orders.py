"""Work orders: filing, scheduling, dispatch and the lifecycle (a technician's own jobs:
``my_work_orders``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from fastapi import APIRouter, Query, Response
from pydantic import ConfigDict, Field, model_validator

from fieldvault.work_order.v1 import work_order_pb2 as pb
from fieldvault_platform import limits
from fieldvault_platform.timestamps import to_timestamp
from gateway.dependencies import IfMatch
from gateway.etags import with_etag
from gateway.for_caller import WorkOrderForCaller
from gateway.idempotency import RESPONSES as CREATE_RESPONSES
from gateway.idempotency import replayed_by_reading
from gateway.rest import STALE, Moment, Page, PageSize, RequestBody, Responses
from gateway.work_order_models import (
    HistoryEntry,
    PriorityName,
    StatusName,
    WorkOrder,
    priority,
    status,
)

router = APIRouter(tags=["work-orders"])

ID = Field(min_length=1, max_length=64)
OPTIONAL_ID = Field(default=None, min_length=1, max_length=64)
TITLE = Field(min_length=1, max_length=limits.TITLE)
DESCRIPTION = Field(default=None, max_length=limits.NOTES)
Title = Annotated[str, TITLE]

#: Members of a work order that keep a value once set: ``null`` for them is refused.
_NOT_NULL = ("title", "priority", "scheduled_start", "scheduled_end")

TRANSITION: Responses = {
    409: {"description": "Not allowed in the work order's status (invalid_transition)"},
    **STALE,
}


class WorkOrderCreate(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "site_id": "sit_01HZX4",
                    "title": "Alarm panel beeps every night",
                    "description": "Panel shows a low-battery fault.",
                    "priority": "high",
                    "scheduled_start": "2026-12-07T08:00:00Z",
                    "scheduled_end": "2026-12-07T10:00:00Z",
                }
            ]
        }
    )

    site_id: str = ID
    title: str = TITLE
    description: str | None = DESCRIPTION
    priority: PriorityName = "normal"
    #: RFC 3339 with an offset (``Z`` for UTC); a schedule makes the work order scheduled.
    scheduled_start: Moment | None = None
    scheduled_end: Moment | None = None


class WorkOrderPatch(RequestBody):
    """Only the members present change; ``description`` set to ``null`` or ``""`` is
    cleared; the others cannot be null. Any other member (e.g. ``id`` or ``etag`` of a
    copy read earlier) is refused (422)."""

    title: Title | None = None
    description: str | None = DESCRIPTION
    priority: PriorityName | None = None
    scheduled_start: Moment | None = None
    scheduled_end: Moment | None = None

    @model_validator(mode="after")
    def _a_known_change(self) -> Self:
        for name in _NOT_NULL:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        if not self.model_fields_set:
            raise ValueError(
                "nothing to change: give title, description, priority, scheduled_start "
                "or scheduled_end"
            )
        return self

    def request(self, *, work_order_id: str, etag: str) -> pb.UpdateWorkOrderRequest:
        """``UpdateWorkOrderRequest`` with only the members present set: unset optional
        text, UNSPECIFIED priority and unset timestamps all mean "unchanged"."""
        present = self.model_fields_set
        changes: dict[str, Any] = {}
        if "title" in present:
            changes["title"] = self.title
        if "description" in present:
            changes["description"] = self.description or ""
        return pb.UpdateWorkOrderRequest(
            id=work_order_id,
            etag=etag,
            priority=priority(self.priority),
            scheduled_start=to_timestamp(self.scheduled_start),
            scheduled_end=to_timestamp(self.scheduled_end),
            **changes,
        )


class Assignment(RequestBody):
    """Exactly one: a technician, or a subcontractor organisation as a whole."""

    assignee_user_id: str | None = OPTIONAL_ID
    organization_id: str | None = OPTIONAL_ID

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.assignee_user_id is None) == (self.organization_id is None):
            raise ValueError("give exactly one of assignee_user_id and organization_id")
        return self


class Completion(RequestBody):
    notes: str | None = Field(default=None, max_length=limits.NOTES)


#: Why the assignee cannot do the job (work-order's fixed list).
UnableReason = Literal["no_access", "customer_absent", "parts_needed", "unsafe", "other"]


class Unable(RequestBody):
    reason: UnableReason
    #: For the office (kept with the job, never put into a message).
    notes: str | None = Field(default=None, max_length=limits.NOTES)


class Cancellation(RequestBody):
    #: Recorded in the work order's history.
    reason: str = Field(min_length=1, max_length=limits.HISTORY_REASON)


class WorkOrderList(Page):
    items: list[WorkOrder]


class HistoryList(Page):
    """A work order's history, oldest first (not paged)."""

    items: list[HistoryEntry]


def _answer(response: Response, order: pb.WorkOrder) -> WorkOrder:
    return with_etag(response, WorkOrder.of(order))


@router.post(
    "/v1/work-orders",
    status_code=201,
    summary="File a work order for a site",
    dependencies=[replayed_by_reading("/v1/work-orders/{id}")],
    responses=CREATE_RESPONSES,
)
async def create_work_order(
    body: WorkOrderCreate, work_orders: WorkOrderForCaller, response: Response
) -> WorkOrder:
    result = await work_orders.call(
        work_orders.stub.CreateWorkOrder,
        pb.CreateWorkOrderRequest(
            site_id=body.site_id,
            title=body.title,
            description=body.description or "",
            priority=priority(body.priority),
            scheduled_start=to_timestamp(body.scheduled_start),
            scheduled_end=to_timestamp(body.scheduled_end),
        ),
    )
    return _answer(response, result.work_order)


@router.get("/v1/work-orders", summary="List work orders")
async def list_work_orders(
    work_orders: WorkOrderForCaller,
    status_: Annotated[StatusName | None, Query(alias="status")] = None,
    area_id: str = "",
    assignee_id: str = "",
    site_id: str = "",
    reference: Annotated[str, Query(max_length=20)] = "",
    scheduled_from: Moment | None = None,
    scheduled_until: Moment | None = None,
    page_size: PageSize = 50,
    page_token: str = "",
) -> WorkOrderList:
    """``assignee_id`` is a user or an organisation; ``reference`` finds one job by its
    reference (``WO-000123``; ``wo-123`` and ``123`` too); the scheduled start lies within
    [``scheduled_from``, ``scheduled_until``), RFC 3339 with an offset (``Z`` for UTC)."""
    result = await work_orders.call(
        work_orders.stub.ListWorkOrders,
        pb.ListWorkOrdersRequest(
            page_size=page_size,
            page_token=page_token,
            status=status(status_),
            area_id=area_id,
            assignee_id=assignee_id,
            site_id=site_id,
            reference=reference,
            scheduled_from=to_timestamp(scheduled_from),
            scheduled_until=to_timestamp(scheduled_until),
        ),
    )
    return WorkOrderList(
        items=[WorkOrder.of(order) for order in result.work_orders],
        next_page_token=result.next_page_token,
    )


@router.get("/v1/work-orders/{work_order_id}", summary="One work order")
async def get_work_order(
    work_order_id: str, work_orders: WorkOrderForCaller, response: Response
) -> WorkOrder:
    result = await work_orders.call(
        work_orders.stub.GetWorkOrder, pb.GetWorkOrderRequest(id=work_order_id)
    )
    return _answer(response, result.work_order)


@router.patch(
    "/v1/work-orders/{work_order_id}",
    summary="Change title, description, priority or schedule (a schedule makes a new one "
    "scheduled)",
    responses=TRANSITION,
)
async def update_work_order(
    work_order_id: str,
    body: WorkOrderPatch,
    work_orders: WorkOrderForCaller,
    response: Response,
    etag: IfMatch,
) -> WorkOrder:
    result = await work_orders.call(
        work_orders.stub.UpdateWorkOrder, body.request(work_order_id=work_order_id, etag=etag)
    )
    return _answer(response, result.work_order)


@router.post(
    "/v1/work-orders/{work_order_id}/assign",
    summary="Assign to a technician or a subcontractor organisation",
    responses={
        409: {
            "description": "Not allowed in the work order's status (invalid_transition), or "
            "the subcontractor has no active DPA (dpa_inactive)"
        },
        **STALE,
    },
)
async def assign_work_order(
    work_order_id: str,
    body: Assignment,
    work_orders: WorkOrderForCaller,
    response: Response,
    etag: IfMatch,
) -> WorkOrder:
    result = await work_orders.call(
        work_orders.stub.AssignWorkOrder,
        pb.AssignWorkOrderRequest(
            id=work_order_id,
            etag=etag,
            assignee_user_id=body.assignee_user_id or "",
            organization_id=body.organization_id or "",
        ),
    )
    return _answer(response, result.work_order)


@router.post(
    "/v1/work-orders/{work_order_id}/start",
    summary="Start the work (assignee)",
    responses=TRANSITION,
)
async def start_work_order(
    work_order_id: str, work_orders: WorkOrderForCaller, response: Response, etag: IfMatch
) -> WorkOrder:
    result = await work_orders.call(
        work_orders.stub.StartWorkOrder, pb.StartWorkOrderRequest(id=work_order_id, etag=etag)
    )
    return _answer(response, result.work_order)


@router.post(
    "/v1/work-orders/{work_order_id}/complete",
    summary="Complete the work, with optional notes (assignee)",
    responses=TRANSITION,
)
async def complete_work_order(
    work_order_id: str,
    work_orders: WorkOrderForCaller,
    response: Response,
    etag: IfMatch,
    body: Completion | None = None,
) -> WorkOrder:
    result = await work_orders.call(
        work_orders.stub.CompleteWorkOrder,
        pb.CompleteWorkOrderRequest(
            id=work_order_id, etag=etag, notes=(body.notes if body else None) or ""
        ),
    )
    return _answer(response, result.work_order)


@router.post(
    "/v1/work-orders/{work_order_id}/unable",
    summary="Report that the work cannot be done, with the reason (assignee): the job goes "
    "back to the office queue and the area's dispatchers are told",
    responses=TRANSITION,
)
async def report_work_order_unable(
    work_order_id: str,
    body: Unable,
    work_orders: WorkOrderForCaller,
    response: Response,
    etag: IfMatch,
) -> WorkOrder:
    result = await work_orders.call(
        work_orders.stub.ReportWorkOrderUnable,
        pb.ReportWorkOrderUnableRequest(
            id=work_order_id, etag=etag, reason=body.reason, notes=body.notes or ""
        ),
    )
    return _answer(response, result.work_order)


@router.post(
    "/v1/work-orders/{work_order_id}/cancel",
    summary="Cancel a work order, with the reason",
    responses=TRANSITION,
)
async def cancel_work_order(
    work_order_id: str,
    body: Cancellation,
    work_orders: WorkOrderForCaller,
    response: Response,
    etag: IfMatch,
) -> WorkOrder:
    result = await work_orders.call(
        work_orders.stub.CancelWorkOrder,
        pb.CancelWorkOrderRequest(id=work_order_id, etag=etag, reason=body.reason),
    )
    return _answer(response, result.work_order)


@router.get(
    "/v1/work-orders/{work_order_id}/history", summary="Who changed a work order, what and when"
)
async def work_order_history(work_order_id: str, work_orders: WorkOrderForCaller) -> HistoryList:
    result = await work_orders.call(
        work_orders.stub.ListWorkOrderHistory, pb.ListWorkOrderHistoryRequest(id=work_order_id)
    )
    return HistoryList(items=[HistoryEntry.of(entry) for entry in result.entries])
