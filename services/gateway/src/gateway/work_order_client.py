"""Calling work_order from a route, as the caller (token exchanged for its audience)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from fieldvault.work_order.v1 import work_order_pb2_grpc
from gateway.as_caller import AsCaller, as_caller
from gateway.auth import Auth, CurrentCaller
from gateway.dependencies import RequestId, WorkOrderPeer
from gateway.peers import Peer

AUDIENCE = "work_order"


def work_order_stub(peer: Peer) -> work_order_pb2_grpc.WorkOrderServiceStub:
    return peer.stub(work_order_pb2_grpc.WorkOrderServiceStub)


#: work_order's stub plus the caller's work_order-audience token.
WorkOrderAsCaller = AsCaller[work_order_pb2_grpc.WorkOrderServiceStub]


async def work_order_as_caller(
    caller: CurrentCaller, auth: Auth, peer: WorkOrderPeer, request_id: RequestId
) -> WorkOrderAsCaller:
    return await as_caller(
        caller=caller,
        auth=auth,
        peer=peer,
        audience=AUDIENCE,
        stub=work_order_stub(peer),
        request_id=request_id,
    )


WorkOrderForCaller = Annotated[WorkOrderAsCaller, Depends(work_order_as_caller)]
