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
from fieldvault_platform.auth.wiring import ServiceTokens
from fieldvault_platform.errors import NotFound
from fieldvault_platform.grpc_client import PeerRefused
from fieldvault_platform.peer_client import PeerClient
from fieldvault_platform.timestamps import from_timestamp

#: Longer than the platform's 5 s, as it always was here (customer-vault unwraps
#: the share's key through Vault before it answers).
CALL_TIMEOUT_SECONDS = 10.0
SCOPE = "shares:deliver"
#: customer-vault's answers for a share that is dead (opened, revoked, locked,
#: expired) or a channel already sent.
_CLOSED = frozenset({grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION})


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
        self._vault = PeerClient(tokens, audience="customer_vault", timeout=CALL_TIMEOUT_SECONDS)
        self._stub = customer_vault_pb2_grpc.CustomerVaultServiceStub(customer_vault)

    async def fetch(self, tenant_id: str, share_id: str, channel: str) -> ShareChannel | None:
        """The channel's address and secret; None once the share is dead or the channel sent."""
        try:
            response = await self._vault.call(
                self._stub.GetShareDelivery,
                pb.GetShareDeliveryRequest(tenant_id=tenant_id, share_id=share_id, channel=channel),
                scope=SCOPE,
                tenant_id=tenant_id,
            )
        except PeerRefused as exc:
            if exc.status in _CLOSED:
                return None
            raise
        expires = from_timestamp(response, "expire_time")
        return ShareChannel(address=response.address, secret=response.secret, expires=expires)

    async def confirm(self, tenant_id: str, share_id: str, channel: str) -> None:
        await self._vault.call(
            self._stub.ConfirmShareDelivery,
            pb.ConfirmShareDeliveryRequest(tenant_id=tenant_id, share_id=share_id, channel=channel),
            scope=SCOPE,
            tenant_id=tenant_id,
            not_found=NotFound("share not found"),
        )
