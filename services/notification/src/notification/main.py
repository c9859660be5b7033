"""Composition root of the notification service."""

from __future__ import annotations

from functools import partial

from fieldvault.notification.v1 import notification_pb2_grpc
from fieldvault_platform import telemetry
from fieldvault_platform.db import Database
from fieldvault_platform.events import open_event_backbone
from fieldvault_platform.logging import configure_logging
from fieldvault_platform.runtime import ServiceRuntime, serve
from notification.grpc_api import SERVICE_NAME, NotificationServicer
from notification.settings import Settings

SERVICE = "notification"


async def build_runtime(settings: Settings) -> ServiceRuntime:
    database = Database(settings.database_url)
    telemetry.instrument_engine(database.engine)
    backbone = await open_event_backbone(
        service=SERVICE, nats_url=settings.nats_url, database=database
    )
    servicer = NotificationServicer()
    return ServiceRuntime(
        settings=settings,
        registrars=[
            partial(notification_pb2_grpc.add_NotificationServiceServicer_to_server, servicer)
        ],
        service_names=[SERVICE_NAME],
        background_jobs=[backbone.relay.run],
        cleanups=[database.dispose, backbone.close],
    )


async def run(settings: Settings) -> None:
    configure_logging(SERVICE, settings.log_level)
    telemetry.setup(SERVICE)
    await serve(await build_runtime(settings))
