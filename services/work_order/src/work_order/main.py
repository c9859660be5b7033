"""Composition root of the work-order service."""

from __future__ import annotations

from functools import partial

from fieldvault.work_order.v1 import work_order_pb2_grpc
from fieldvault_platform.runtime import ServiceRuntime
from fieldvault_platform.service import open_plumbing, run_service
from work_order.grpc_api import SERVICE_NAME, WorkOrderServicer
from work_order.settings import Settings

SERVICE = "work_order"


async def build_runtime(settings: Settings) -> ServiceRuntime:
    plumbing = await open_plumbing(SERVICE, settings)
    servicer = WorkOrderServicer()
    return plumbing.runtime(
        settings,
        registrars=[partial(work_order_pb2_grpc.add_WorkOrderServiceServicer_to_server, servicer)],
        service_names=[SERVICE_NAME],
    )


async def run(settings: Settings) -> None:
    await run_service(SERVICE, settings, lambda: build_runtime(settings))
