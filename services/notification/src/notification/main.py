"""Composition root of the notification service."""

from __future__ import annotations

from functools import partial

from fieldvault.notification.v1 import notification_pb2_grpc
from fieldvault_platform.runtime import ServiceRuntime
from fieldvault_platform.service import open_plumbing, run_service
from notification.grpc_api import SERVICE_NAME, NotificationServicer
from notification.settings import Settings

SERVICE = "notification"


async def build_runtime(settings: Settings) -> ServiceRuntime:
    plumbing = await open_plumbing(SERVICE, settings)
    servicer = NotificationServicer()
    return plumbing.runtime(
        settings,
        registrars=[
            partial(notification_pb2_grpc.add_NotificationServiceServicer_to_server, servicer)
        ],
        service_names=[SERVICE_NAME],
    )


async def run(settings: Settings) -> None:
    await run_service(SERVICE, settings, lambda: build_runtime(settings))
