"""Calling notification from a route, as the caller (token exchanged for its audience)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from fieldvault.notification.v1 import notification_pb2_grpc
from gateway.as_caller import AsCaller, as_caller
from gateway.auth import Auth, CurrentCaller
from gateway.dependencies import NotificationPeer, RequestId
from gateway.peers import Peer

AUDIENCE = "notification"


def notification_stub(peer: Peer) -> notification_pb2_grpc.NotificationServiceStub:
    return peer.stub(notification_pb2_grpc.NotificationServiceStub)


#: notification's stub plus the caller's notification-audience token.
NotificationAsCaller = AsCaller[notification_pb2_grpc.NotificationServiceStub]


async def notification_as_caller(
    caller: CurrentCaller, auth: Auth, peer: NotificationPeer, request_id: RequestId
) -> NotificationAsCaller:
    return await as_caller(
        caller=caller,
        auth=auth,
        peer=peer,
        audience=AUDIENCE,
        stub=notification_stub(peer),
        request_id=request_id,
    )


NotificationForCaller = Annotated[NotificationAsCaller, Depends(notification_as_caller)]
