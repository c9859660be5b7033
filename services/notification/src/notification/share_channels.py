"""A secure share's two channels, fetched from customer-vault one at a time when sending.

customer-vault keeps a share's recipient address and phone number, its link
token and its PIN sealed until they are sent; this service asks for one
channel's address and secret (``shares:deliver``, its own token), puts them
into the one message that carries them, and confirms, after which
customer-vault wipes them. Nothing of it is stored here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import grpc

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault.customer_vault.v1 import customer_vault_pb2_grpc
from fieldvault_platform.auth import bearer_metadata
from fieldvault_platform.auth.wiring import ServiceTokens
from fieldvault_platform.errors import NotFound
from fieldvault_platform.grpc_client import peer_error
from fieldvault_platform.timestamps import from_timestamp

CALL_TIMEOUT_SECONDS = 10.0
SCOPE = "shares:deliver"


@dataclass(frozen=True)
class ShareChannel:
    #: The e-mail address or the phone number.
    address: str
    #: The link token (e-mail) or the PIN (SMS).
    secret: str = ""
    expires: datetime | None = None

    def __repr__(self) -> str:  # never print an address or a secret
        return "ShareChannel(…)"


class ShareChannels:
    def __init__(self, tokens: ServiceTokens, customer_vault: grpc.aio.Channel) -> None:
        self._tokens = tokens
        self._stub = customer_vault_pb2_grpc.CustomerVaultServiceStub(customer_vault)

    async def _metadata(self, tenant_id: str) -> tuple[tuple[str, str]]:
        token = await self._tokens.token(
            audience="customer_vault", scope=SCOPE, tenant_id=tenant_id
        )
        return bearer_metadata(token)

    async def fetch(self, tenant_id: str, share_id: str, channel: str) -> ShareChannel | None:
        """The channel's address and secret; None once the share is dead or the channel sent."""
        try:
            response = await self._stub.GetShareDelivery(
                pb.GetShareDeliveryRequest(tenant_id=tenant_id, share_id=share_id, channel=channel),
                metadata=await self._metadata(tenant_id),
                timeout=CALL_TIMEOUT_SECONDS,
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION):
                return None
            raise peer_error(exc, "customer_vault", NotFound("share not found")) from exc
        expires = from_timestamp(response, "expire_time")
        return ShareChannel(address=response.address, secret=response.secret, expires=expires)

    async def confirm(self, tenant_id: str, share_id: str, channel: str) -> None:
        try:
            await self._stub.ConfirmShareDelivery(
                pb.ConfirmShareDeliveryRequest(
                    tenant_id=tenant_id, share_id=share_id, channel=channel
                ),
                metadata=await self._metadata(tenant_id),
                timeout=CALL_TIMEOUT_SECONDS,
            )
        except grpc.aio.AioRpcError as exc:
            raise peer_error(exc, "customer_vault", NotFound("share not found")) from exc
