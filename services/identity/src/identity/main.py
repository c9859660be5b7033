"""Composition root of the identity service."""

from __future__ import annotations

from functools import partial

from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_platform.runtime import ServiceRuntime
from fieldvault_platform.service import open_plumbing, run_service
from identity.grpc_api import SERVICE_NAME, IdentityServicer
from identity.settings import Settings

SERVICE = "identity"


async def build_runtime(settings: Settings) -> ServiceRuntime:
    plumbing = await open_plumbing(SERVICE, settings)
    servicer = IdentityServicer()
    return plumbing.runtime(
        settings,
        registrars=[partial(identity_pb2_grpc.add_IdentityServiceServicer_to_server, servicer)],
        service_names=[SERVICE_NAME],
    )


async def run(settings: Settings) -> None:
    await run_service(SERVICE, settings, lambda: build_runtime(settings))
