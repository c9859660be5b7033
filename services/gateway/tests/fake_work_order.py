"""A stand-in for work_order's gRPC API, for the gateway's own tests.

It speaks the real contract (``WorkOrderService`` on a real grpc.aio server with
the services' error interceptor), keeps its state in memory, refuses any token
that is not identity's exchanged token for the ``work_order`` audience, and
records every request with its metadata so a test can see exactly what the
gateway forwarded. Its rules are the contract's, in small: a move the lifecycle
does not allow answers FAILED_PRECONDITION ``invalid_transition``, a
subcontractor without an active DPA ``dpa_inactive``, a stale etag
``precondition_failed``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from google.protobuf.message import Message

from fieldvault.customer_vault.v1 import customer_vault_pb2_grpc
from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault.work_order.v1 import work_order_pb2 as pb
from fieldvault.work_order.v1 import work_order_pb2_grpc
from fieldvault_platform.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)

from .fake_common import Call, bearer_claims, now, record
from .fake_customer_vault import FakeCustomerVault
from .fake_identity import ORGANIZATION, TENANT, FakeIdentity

AUDIENCE = "work_order"

_NEW = pb.WORK_ORDER_STATUS_NEW
_SCHEDULED = pb.WORK_ORDER_STATUS_SCHEDULED
_ASSIGNED = pb.WORK_ORDER_STATUS_ASSIGNED
_IN_PROGRESS = pb.WORK_ORDER_STATUS_IN_PROGRESS
_COMPLETED = pb.WORK_ORDER_STATUS_COMPLETED
_CANCELLED = pb.WORK_ORDER_STATUS_CANCELLED
_OPEN = (_NEW, _SCHEDULED, _ASSIGNED, _IN_PROGRESS)


def invalid_transition(action: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"a work order in this status cannot be {action}", code="invalid_transition"
    )


class FakeWorkOrder(work_order_pb2_grpc.WorkOrderServiceServicer):
    def __init__(self, identity: FakeIdentity) -> None:
        self.identity = identity
        self.calls: dict[str, list[Call]] = defaultdict(list)
        self.work_orders: dict[str, pb.WorkOrder] = {}
        self.history: dict[str, list[pb.HistoryEntry]] = defaultdict(list)
        #: Subcontractor organisations whose data-processing agreement is not active.
        self.lapsed_dpa: set[str] = set()
        #: What every list answers as its next page token.
        self.next_page_token = ""

    # --- helpers for tests -----------------------------------------------------

    def requests(self, method: str) -> list[Any]:
        return [call.request for call in self.calls[method]]

    def metadata(self, method: str) -> list[dict[str, str]]:
        return [call.metadata for call in self.calls[method]]

    def add(self, **fields: Any) -> pb.WorkOrder:
        """A work order put straight into the store (defaults: new, normal, at site-1)."""
        order = pb.WorkOrder(
            id=f"wo-{len(self.work_orders) + 1}",
            tenant_id=TENANT,
            site_id="site-1",
            area_id="area-1",
            title="Fix the boiler",
            priority=pb.PRIORITY_NORMAL,
            status=_NEW,
            created_by="user-1",
            create_time=now(),
            update_time=now(),
            etag='"1"',
        )
        for name, value in fields.items():
            if isinstance(value, Message):
                getattr(order, name).CopyFrom(value)
            else:
                setattr(order, name, value)
        self.work_orders[order.id] = order
        return order

    # --- the rules ---------------------------------------------------------------

    def _begin(self, method: str, request: Message, context: Any) -> str:
        """Record the call and verify its token as work_order would; the caller's id."""
        call = record(self.calls, method, request, context)
        return str(bearer_claims(call.metadata, self.identity.key.public_key(), AUDIENCE)["sub"])

    def _order(self, work_order_id: str, etag: str = "") -> pb.WorkOrder:
        if work_order_id not in self.work_orders:
            raise NotFound("no such work order")
        order = self.work_orders[work_order_id]
        if etag and etag.removeprefix("W/") != order.etag:
            raise FailedPrecondition("the work order changed", code="precondition_failed")
        return order

    def _record(
        self,
        order: pb.WorkOrder,
        user: str,
        action: str,
        before: pb.WorkOrderStatus,
        fields: list[str],
    ) -> pb.WorkOrder:
        order.etag = f'"{int(order.etag.strip(chr(34))) + 1}"'
        order.update_time.CopyFrom(now())
        entries = self.history[order.id]
        entries.append(
            pb.HistoryEntry(
                id=f"{order.id}-h{len(entries) + 1}",
                occur_time=now(),
                actor_id=user,
                action=action,
                from_status=before,
                to_status=order.status,
                fields=fields,
            )
        )
        return order

    def _move(
        self,
        request: Any,
        user: str,
        action: str,
        allowed: tuple[pb.WorkOrderStatus, ...],
        to: pb.WorkOrderStatus,
    ) -> pb.WorkOrder:
        order = self._order(request.id, request.etag)
        if order.status not in allowed:
            raise invalid_transition(action)
        before, order.status = order.status, to
        return self._record(order, user, action, before, ["status"])

    # --- the RPCs ------------------------------------------------------------------

    async def CreateWorkOrder(self, request: Any, context: Any) -> pb.CreateWorkOrderResponse:
        user = self._begin("CreateWorkOrder", request, context)
        scheduled = request.HasField("scheduled_start")
        order = self.add(
            site_id=request.site_id,
            title=request.title,
            description=request.description,
            priority=request.priority or pb.PRIORITY_NORMAL,
            status=_SCHEDULED if scheduled else _NEW,
            created_by=user,
            etag='"0"',
        )
        for field in ("scheduled_start", "scheduled_end"):
            if request.HasField(field):
                getattr(order, field).CopyFrom(getattr(request, field))
        self._record(order, user, "created", pb.WORK_ORDER_STATUS_UNSPECIFIED, [])
        return pb.CreateWorkOrderResponse(work_order=order)

    async def GetWorkOrder(self, request: Any, context: Any) -> pb.GetWorkOrderResponse:
        self._begin("GetWorkOrder", request, context)
        return pb.GetWorkOrderResponse(work_order=self._order(request.id))

    async def ListWorkOrders(self, request: Any, context: Any) -> pb.ListWorkOrdersResponse:
        self._begin("ListWorkOrders", request, context)
        found = [
            order
            for order in self.work_orders.values()
            if request.status in (pb.WORK_ORDER_STATUS_UNSPECIFIED, order.status)
            and request.area_id in ("", order.area_id)
            and request.site_id in ("", order.site_id)
            and request.assignee_id in ("", order.assignee_user_id, order.assignee_organization_id)
        ]
        return pb.ListWorkOrdersResponse(work_orders=found, next_page_token=self.next_page_token)

    async def ListMyWorkOrders(self, request: Any, context: Any) -> pb.ListMyWorkOrdersResponse:
        user = self._begin("ListMyWorkOrders", request, context)
        mine = [
            order
            for order in self.work_orders.values()
            if order.assignee_user_id == user and order.status in (_ASSIGNED, _IN_PROGRESS)
        ]
        return pb.ListMyWorkOrdersResponse(work_orders=mine, next_page_token=self.next_page_token)

    async def UpdateWorkOrder(self, request: Any, context: Any) -> pb.UpdateWorkOrderResponse:
        user = self._begin("UpdateWorkOrder", request, context)
        order = self._order(request.id, request.etag)
        if order.status not in _OPEN:
            raise invalid_transition("changed")
        fields = [f for f in ("title", "description") if request.HasField(f)]
        for field in fields:
            setattr(order, field, getattr(request, field))
        if request.priority != pb.PRIORITY_UNSPECIFIED:
            order.priority = request.priority
            fields.append("priority")
        for field in ("scheduled_start", "scheduled_end"):
            if request.HasField(field):
                getattr(order, field).CopyFrom(getattr(request, field))
                fields.append(field)
        before = order.status
        if before == _NEW and order.HasField("scheduled_start"):
            order.status = _SCHEDULED
        return pb.UpdateWorkOrderResponse(
            work_order=self._record(order, user, "updated", before, fields)
        )

    async def AssignWorkOrder(self, request: Any, context: Any) -> pb.AssignWorkOrderResponse:
        user = self._begin("AssignWorkOrder", request, context)
        if bool(request.assignee_user_id) == bool(request.organization_id):
            raise InvalidArgument("give exactly one of assignee_user_id and organization_id")
        if request.organization_id in self.lapsed_dpa:
            raise FailedPrecondition(
                "the subcontractor has no active data-processing agreement", code="dpa_inactive"
            )
        order = self._move(request, user, "assigned", (_NEW, _SCHEDULED, _ASSIGNED), _ASSIGNED)
        order.assignee_user_id = request.assignee_user_id
        order.assignee_organization_id = request.organization_id or ORGANIZATION
        return pb.AssignWorkOrderResponse(work_order=order)

    async def StartWorkOrder(self, request: Any, context: Any) -> pb.StartWorkOrderResponse:
        user = self._begin("StartWorkOrder", request, context)
        order = self._move(request, user, "started", (_ASSIGNED,), _IN_PROGRESS)
        return pb.StartWorkOrderResponse(work_order=order)

    async def CompleteWorkOrder(self, request: Any, context: Any) -> pb.CompleteWorkOrderResponse:
        user = self._begin("CompleteWorkOrder", request, context)
        order = self._move(request, user, "completed", (_IN_PROGRESS,), _COMPLETED)
        order.completion_notes = request.notes
        return pb.CompleteWorkOrderResponse(work_order=order)

    async def CancelWorkOrder(self, request: Any, context: Any) -> pb.CancelWorkOrderResponse:
        user = self._begin("CancelWorkOrder", request, context)
        if not request.reason:
            raise InvalidArgument("a reason is required")
        order = self._move(request, user, "cancelled", _OPEN, _CANCELLED)
        order.cancel_reason = request.reason
        return pb.CancelWorkOrderResponse(work_order=order)

    async def ListWorkOrderHistory(
        self, request: Any, context: Any
    ) -> pb.ListWorkOrderHistoryResponse:
        self._begin("ListWorkOrderHistory", request, context)
        self._order(request.id)
        return pb.ListWorkOrderHistoryResponse(entries=self.history[request.id])


@dataclass
class WorkOrderGateway:
    client: httpx.AsyncClient
    app: FastAPI
    identity: FakeIdentity
    vault: FakeCustomerVault
    work_orders: FakeWorkOrder
    #: customer_vault's server, so a test can take it down.
    vault_server: Any

    def bearer(self, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.identity.mint(**claims)}"}


@asynccontextmanager
async def fake_work_order_gateway(
    start_peer: Any, *, vault: type[FakeCustomerVault] = FakeCustomerVault, **overrides: Any
) -> AsyncIterator[WorkOrderGateway]:
    """The gateway in front of a fake identity (tokens), customer_vault and work_order."""
    from gateway.main import create_app

    from .conftest import PEER_NAMES, serve, settings_for

    identity = FakeIdentity()
    customer_vault = vault(identity)
    work_orders = FakeWorkOrder(identity)
    identity_server = await start_peer(
        "identity",
        register=lambda s: identity_pb2_grpc.add_IdentityServiceServicer_to_server(identity, s),
    )
    vault_server = await start_peer(
        "customer_vault",
        register=lambda s: customer_vault_pb2_grpc.add_CustomerVaultServiceServicer_to_server(
            customer_vault, s
        ),
    )
    work_order_server = await start_peer(
        "work_order",
        register=lambda s: work_order_pb2_grpc.add_WorkOrderServiceServicer_to_server(
            work_orders, s
        ),
    )
    addresses = dict.fromkeys(PEER_NAMES, identity_server.address)
    addresses["customer_vault"] = vault_server.address
    addresses["work_order"] = work_order_server.address
    app = create_app(settings_for(addresses, **overrides))
    async with serve(app) as http:
        yield WorkOrderGateway(http, app, identity, customer_vault, work_orders, vault_server)
