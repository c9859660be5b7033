"""Composition root of the customer-vault service."""

from __future__ import annotations

from functools import partial

from customer_vault.grpc_api import SERVICE_NAME, CustomerVaultServicer
from customer_vault.settings import Settings
from fieldvault.customer_vault.v1 import customer_vault_pb2_grpc
from fieldvault_platform import telemetry
from fieldvault_platform.db import Database
from fieldvault_platform.events import open_event_backbone
from fieldvault_platform.logging import configure_logging
from fieldvault_platform.runtime import ServiceRuntime, serve
from fieldvault_platform.vault import VaultClient

SERVICE = "customer_vault"


async def build_runtime(settings: Settings) -> ServiceRuntime:
    database = Database(settings.database_url)
    telemetry.instrument_engine(database.engine)
    backbone = await open_event_backbone(
        service=SERVICE, nats_url=settings.nats_url, database=database
    )
    # Vault is reached lazily per call: a sealed or stopped Vault makes the
    # calls that need it answer UNAVAILABLE, not the whole service fail to start.
    servicer = CustomerVaultServicer(vault=VaultClient(settings))
    return ServiceRuntime(
        settings=settings,
        registrars=[
            partial(customer_vault_pb2_grpc.add_CustomerVaultServiceServicer_to_server, servicer)
        ],
        service_names=[SERVICE_NAME],
        background_jobs=[backbone.relay.run],
        cleanups=[database.dispose, backbone.close],
    )


async def run(settings: Settings) -> None:
    configure_logging(SERVICE, settings.log_level)
    telemetry.setup(SERVICE)
    await serve(await build_runtime(settings))
