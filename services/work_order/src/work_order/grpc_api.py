"""gRPC servicer for fieldvault.work_order.v1.WorkOrderService: proto ⇄ domain only."""

from __future__ import annotations

from fieldvault.work_order.v1 import work_order_pb2, work_order_pb2_grpc

SERVICE_NAME: str = work_order_pb2.DESCRIPTOR.services_by_name["WorkOrderService"].full_name


class WorkOrderServicer(work_order_pb2_grpc.WorkOrderServiceServicer):
    """No RPCs yet: the work-order issue defines them. Health is served beside it."""
