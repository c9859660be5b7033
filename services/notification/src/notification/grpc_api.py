"""gRPC servicer for fieldvault.notification.v1.NotificationService: proto ⇄ domain only."""

from __future__ import annotations

from fieldvault.notification.v1 import notification_pb2, notification_pb2_grpc

SERVICE_NAME: str = notification_pb2.DESCRIPTOR.services_by_name["NotificationService"].full_name


class NotificationServicer(notification_pb2_grpc.NotificationServiceServicer):
    """No RPCs yet: the notification issue defines them. Health is served beside it."""
