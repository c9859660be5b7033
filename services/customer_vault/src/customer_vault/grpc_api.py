"""gRPC servicer for fieldvault.customer_vault.v1.CustomerVaultService: proto ⇄ domain only."""

from __future__ import annotations

import grpc

from customer_vault import service
from customer_vault.callers import Callers
from fieldvault.customer_vault.v1 import customer_vault_pb2, customer_vault_pb2_grpc
from fieldvault_platform.vault import VaultClient

SERVICE_NAME: str = customer_vault_pb2.DESCRIPTOR.services_by_name["CustomerVaultService"].full_name


class CustomerVaultServicer(customer_vault_pb2_grpc.CustomerVaultServiceServicer):
    def __init__(self, *, vault: VaultClient, callers: Callers) -> None:
        self._vault = vault
        self._callers = callers

    async def EnsureTenantKey(
        self,
        request: customer_vault_pb2.EnsureTenantKeyRequest,
        context: grpc.aio.ServicerContext,
    ) -> customer_vault_pb2.EnsureTenantKeyResponse:
        caller = await self._callers.principal(context)
        key = await service.ensure_tenant_key(
            vault=self._vault, caller=caller, tenant_id=request.tenant_id
        )
        return customer_vault_pb2.EnsureTenantKeyResponse(
            key_name=key.name, latest_version=key.latest_version, created=key.created
        )
