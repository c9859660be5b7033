"""Composition root of the work-order service."""

from __future__ import annotations

from functools import partial

from fieldvault.work_order.v1 import work_order_pb2_grpc
from fieldvault_platform import telemetry
from fieldvault_platform.db import Database
from fieldvault_platform.events import open_event_backbone
from fieldvault_platform.logging import configure_logging
from fieldvault_platform.runtime import ServiceRuntime, serve
from work_order.grpc_api import SERVICE_NAME, WorkOrderServicer
from work_order.settings import Settings

SERVICE = "work_order"


async def build_runtime(settings: Settings) -> ServiceRuntime:
    database = Database(settings.database_url)
    telemetry.instrument_engine(database.engine)
    backbone = await open_event_backbone(
        service=SERVICE, nats_url=settings.nats_url, database=database
    )
    servicer = WorkOrderServicer()
    return ServiceRuntime(
        settings=settings,
        registrars=[partial(work_order_pb2_grpc.add_WorkOrderServiceServicer_to_server, servicer)],
        service_names=[SERVICE_NAME],
        background_jobs=[backbone.relay.run],
        cleanups=[database.dispose, backbone.close],
    )


async def run(settings: Settings) -> None:
    configure_logging(SERVICE, settings.log_level)
    telemetry.setup(SERVICE)
    await serve(await build_runtime(settings))
