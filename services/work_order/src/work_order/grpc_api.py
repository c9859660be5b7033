"""gRPC servicer for fieldvault.work_order.v1.WorkOrderService: proto ⇄ domain only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeAlias

import grpc

from fieldvault.work_order.v1 import work_order_pb2 as pb
from fieldvault.work_order.v1 import work_order_pb2_grpc
from fieldvault_platform.retention import report_tenant, tenant_report
from fieldvault_platform.timestamps import from_timestamp, to_timestamp
from work_order import retention, transitions, work_orders
from work_order.access import Caller, caller_of
from work_order.components import Components
from work_order.messages import (
    history_message,
    priority_name,
    status_name,
    work_order_message,
)
from work_order.work_orders import Filters, Schedule

SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["WorkOrderService"].full_name

Context: TypeAlias = grpc.aio.ServicerContext


def _now() -> datetime:
    return datetime.now(UTC)


def _schedule(request: pb.CreateWorkOrderRequest | pb.UpdateWorkOrderRequest) -> Schedule:
    return Schedule(
        from_timestamp(request, "scheduled_start"), from_timestamp(request, "scheduled_end")
    )


class WorkOrderServicer(work_order_pb2_grpc.WorkOrderServiceServicer):
    def __init__(self, components: Components) -> None:
        self._c = components

    async def _caller(self, context: Context, *scopes: str) -> Caller:
        return caller_of(await self._c.callers.principal(context), *scopes)

    async def CreateWorkOrder(
        self, request: pb.CreateWorkOrderRequest, context: Context
    ) -> pb.CreateWorkOrderResponse:
        caller = await self._caller(context, "work_orders:write")
        order = await work_orders.create(
            self._c,
            caller,
            site_id=request.site_id,
            title=request.title,
            description=request.description,
            priority=priority_name(request.priority),
            schedule=_schedule(request),
            now=_now(),
        )
        return pb.CreateWorkOrderResponse(work_order=work_order_message(order))

    async def GetWorkOrder(
        self, request: pb.GetWorkOrderRequest, context: Context
    ) -> pb.GetWorkOrderResponse:
        caller = await self._caller(context, "work_orders:read")
        order = await work_orders.get(self._c, caller, work_order_id=request.id)
        return pb.GetWorkOrderResponse(work_order=work_order_message(order))

    async def ListWorkOrders(
        self, request: pb.ListWorkOrdersRequest, context: Context
    ) -> pb.ListWorkOrdersResponse:
        caller = await self._caller(context, "work_orders:read")
        filters = Filters(
            status=status_name(request.status),
            area_id=request.area_id,
            assignee_id=request.assignee_id,
            site_id=request.site_id,
            scheduled_from=from_timestamp(request, "scheduled_from"),
            scheduled_until=from_timestamp(request, "scheduled_until"),
            reference=request.reference,
        )
        rows, token = await work_orders.list_work_orders(
            self._c,
            caller,
            filters=filters,
            requested_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListWorkOrdersResponse(
            work_orders=[work_order_message(row) for row in rows], next_page_token=token
        )

    async def ListMyWorkOrders(
        self, request: pb.ListMyWorkOrdersRequest, context: Context
    ) -> pb.ListMyWorkOrdersResponse:
        caller = await self._caller(context, "work_orders:read")
        rows, token = await work_orders.list_work_orders(
            self._c,
            caller,
            filters=Filters(),
            requested_size=request.page_size,
            page_token=request.page_token,
            mine=True,
        )
        return pb.ListMyWorkOrdersResponse(
            work_orders=[work_order_message(row) for row in rows], next_page_token=token
        )

    async def UpdateWorkOrder(
        self, request: pb.UpdateWorkOrderRequest, context: Context
    ) -> pb.UpdateWorkOrderResponse:
        caller = await self._caller(context, "work_orders:write")
        schedule = _schedule(request)
        order = await work_orders.update(
            self._c,
            caller,
            work_order_id=request.id,
            etag=request.etag,
            title=request.title if request.HasField("title") else None,
            description=request.description if request.HasField("description") else None,
            priority=priority_name(request.priority),
            schedule=schedule if schedule.start or schedule.end else None,
            now=_now(),
        )
        return pb.UpdateWorkOrderResponse(work_order=work_order_message(order))

    async def AssignWorkOrder(
        self, request: pb.AssignWorkOrderRequest, context: Context
    ) -> pb.AssignWorkOrderResponse:
        caller = await self._caller(context, "work_orders:assign")
        order = await transitions.assign(
            self._c,
            caller,
            work_order_id=request.id,
            etag=request.etag,
            assignee_user_id=request.assignee_user_id,
            organization_id=request.organization_id,
            now=_now(),
        )
        return pb.AssignWorkOrderResponse(work_order=work_order_message(order))

    async def StartWorkOrder(
        self, request: pb.StartWorkOrderRequest, context: Context
    ) -> pb.StartWorkOrderResponse:
        caller = await self._caller(context, "work_orders:progress")
        order = await transitions.start(
            self._c, caller, work_order_id=request.id, etag=request.etag, now=_now()
        )
        return pb.StartWorkOrderResponse(work_order=work_order_message(order))

    async def CompleteWorkOrder(
        self, request: pb.CompleteWorkOrderRequest, context: Context
    ) -> pb.CompleteWorkOrderResponse:
        caller = await self._caller(context, "work_orders:progress")
        order = await transitions.complete(
            self._c,
            caller,
            work_order_id=request.id,
            etag=request.etag,
            notes=request.notes,
            now=_now(),
        )
        return pb.CompleteWorkOrderResponse(work_order=work_order_message(order))

    async def CancelWorkOrder(
        self, request: pb.CancelWorkOrderRequest, context: Context
    ) -> pb.CancelWorkOrderResponse:
        caller = await self._caller(context, "work_orders:write")
        order = await transitions.cancel(
            self._c,
            caller,
            work_order_id=request.id,
            etag=request.etag,
            reason=request.reason,
            now=_now(),
        )
        return pb.CancelWorkOrderResponse(work_order=work_order_message(order))

    async def ReportWorkOrderUnable(
        self, request: pb.ReportWorkOrderUnableRequest, context: Context
    ) -> pb.ReportWorkOrderUnableResponse:
        caller = await self._caller(context, "work_orders:progress")
        order = await transitions.report_unable(
            self._c,
            caller,
            work_order_id=request.id,
            etag=request.etag,
            reason=request.reason,
            notes=request.notes,
            now=_now(),
        )
        return pb.ReportWorkOrderUnableResponse(work_order=work_order_message(order))

    async def ListWorkOrderHistory(
        self, request: pb.ListWorkOrderHistoryRequest, context: Context
    ) -> pb.ListWorkOrderHistoryResponse:
        caller = await self._caller(context, "work_orders:read")
        entries = await work_orders.history(self._c, caller, work_order_id=request.id)
        return pb.ListWorkOrderHistoryResponse(entries=[history_message(e) for e in entries])

    # --- retention -----------------------------------------------------------------

    async def GetRetentionReport(
        self, request: pb.GetRetentionReportRequest, context: Context
    ) -> pb.GetRetentionReportResponse:
        tenant_id = report_tenant(await self._c.callers.principal(context))
        async with self._c.database.unit_of_work() as session:
            reports = await tenant_report(
                session, tenant_id=tenant_id, categories=retention.CATEGORIES
            )
        response = pb.GetRetentionReportResponse()
        for report in reports:
            response.categories.add(
                category=report.category,
                purged=report.purged,
                retention_days=report.days,
                last_run_time=to_timestamp(report.last_run_at),
            )
        return response
