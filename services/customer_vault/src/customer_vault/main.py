"""Composition root of the customer-vault service."""

from __future__ import annotations

from functools import partial

from customer_vault.grpc_api import SERVICE_NAME, CustomerVaultServicer
from customer_vault.settings import Settings
from fieldvault.customer_vault.v1 import customer_vault_pb2_grpc
from fieldvault_platform.runtime import ServiceRuntime
from fieldvault_platform.service import open_plumbing, run_service
from fieldvault_platform.vault import VaultClient

SERVICE = "customer_vault"


async def build_runtime(settings: Settings) -> ServiceRuntime:
    plumbing = await open_plumbing(SERVICE, settings)
    # Vault is reached lazily per call: a sealed or stopped Vault makes the
    # calls that need it answer UNAVAILABLE, not the whole service fail to start.
    servicer = CustomerVaultServicer(vault=VaultClient(settings))
    return plumbing.runtime(
        settings,
        registrars=[
            partial(customer_vault_pb2_grpc.add_CustomerVaultServiceServicer_to_server, servicer)
        ],
        service_names=[SERVICE_NAME],
    )


async def run(settings: Settings) -> None:
    await run_service(SERVICE, settings, lambda: build_runtime(settings))
