"""Calling customer_vault from a route, as the caller (token exchanged for its audience)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from fieldvault.customer_vault.v1 import customer_vault_pb2_grpc
from gateway.as_caller import AsCaller, as_caller
from gateway.auth import Auth, CurrentCaller
from gateway.dependencies import CustomerVaultPeer, RequestId
from gateway.peers import Peer

AUDIENCE = "customer_vault"


def customer_vault_stub(peer: Peer) -> customer_vault_pb2_grpc.CustomerVaultServiceStub:
    return peer.stub(customer_vault_pb2_grpc.CustomerVaultServiceStub)


#: customer_vault's stub plus the caller's customer_vault-audience token.
CustomerVaultAsCaller = AsCaller[customer_vault_pb2_grpc.CustomerVaultServiceStub]


async def customer_vault_as_caller(
    caller: CurrentCaller, auth: Auth, peer: CustomerVaultPeer, request_id: RequestId
) -> CustomerVaultAsCaller:
    return await as_caller(
        caller=caller,
        auth=auth,
        peer=peer,
        audience=AUDIENCE,
        stub=customer_vault_stub(peer),
        request_id=request_id,
    )


CustomerVaultForCaller = Annotated[CustomerVaultAsCaller, Depends(customer_vault_as_caller)]
