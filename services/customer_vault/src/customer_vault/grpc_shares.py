"""CustomerVaultService RPCs for two-channel secure shares (:mod:`customer_vault.access.shares`).

Senders need ``shares:write`` (and ``shares:credential`` for a one-off
credential); only notification's service token (``shares:deliver``) fetches
a channel's address and secret; opening takes no token at all — the link
token and the PIN are the credential.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeAlias

import grpc

from customer_vault.access import shares
from customer_vault.components import Components
from customer_vault.grpc_records import request_id
from customer_vault.visibility import Caller, caller
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault_platform.auth import PrincipalKind
from fieldvault_platform.errors import InvalidArgument, PermissionDenied
from fieldvault_platform.timestamps import to_timestamp

Context: TypeAlias = grpc.aio.ServicerContext

SHARES_WRITE = "shares:write"
SHARES_CREDENTIAL = "shares:credential"
SHARES_DELIVER = "shares:deliver"

SHARE_KINDS = {
    shares.CONTRACT: pb.SHARE_KIND_CONTRACT,
    shares.DPA_DOCUMENT: pb.SHARE_KIND_DPA_DOCUMENT,
    shares.CREDENTIAL: pb.SHARE_KIND_CREDENTIAL,
}
_KIND_NAMES = {int(number): name for name, number in SHARE_KINDS.items()}
SHARE_STATUSES = {
    shares.ACTIVE: pb.SHARE_STATUS_ACTIVE,
    shares.OPENED: pb.SHARE_STATUS_OPENED,
    shares.REVOKED: pb.SHARE_STATUS_REVOKED,
    "expired": pb.SHARE_STATUS_EXPIRED,
    shares.LOCKED: pb.SHARE_STATUS_LOCKED,
}


def _now() -> datetime:
    return datetime.now(UTC)


def share_message(view: shares.ShareView) -> pb.Share:
    row = view.row
    return pb.Share(
        id=row.id,
        kind=SHARE_KINDS[row.kind],
        document_id=row.document_id or "",
        status=SHARE_STATUSES[view.status],
        created_by=row.created_by,
        create_time=to_timestamp(row.created_at),
        expire_time=to_timestamp(row.expires_at),
        opened_time=to_timestamp(row.opened_at),
        failed_attempts=row.failed_attempts,
        max_attempts=row.max_attempts,
        email_sent=row.email_sent_at is not None,
        sms_sent=row.sms_sent_at is not None,
        label=view.label,
    )


class ShareRpcs:
    _components: Components

    async def _sender(self, context: Context, *scopes: str) -> Caller:
        principal = await self._components.callers.principal(context)
        if principal.kind is not PrincipalKind.USER:
            raise PermissionDenied("only a person shares, and only their own shares")
        return caller(principal, *scopes)

    async def _deliverer(self, context: Context, tenant_id: str) -> None:
        principal = await self._components.callers.principal(context)
        if principal.kind is not PrincipalKind.SERVICE:
            raise PermissionDenied("only the delivering service may fetch a share's channels")
        principal.require_scope(SHARES_DELIVER)
        principal.require_tenant(tenant_id)

    async def CreateShare(
        self, request: pb.CreateShareRequest, context: Context
    ) -> pb.CreateShareResponse:
        kind = _KIND_NAMES.get(request.kind)
        if kind is None:
            raise InvalidArgument(
                "kind must be SHARE_KIND_CONTRACT, SHARE_KIND_DPA_DOCUMENT or SHARE_KIND_CREDENTIAL"
            )
        who = await self._sender(context, SHARES_WRITE)
        if kind == shares.CREDENTIAL:
            who.principal.require_scope(SHARES_CREDENTIAL)
        view = await shares.create(
            self._components,
            who,
            kind=kind,
            document_id=request.document_id,
            credential=request.credential,
            recipient_email=request.recipient_email,
            recipient_phone=request.recipient_phone,
            expires_in_hours=request.expires_in_hours,
            label=request.label,
            request_id=request_id(context, request.request_id),
            now=_now(),
        )
        return pb.CreateShareResponse(share=share_message(view))

    async def ListShares(
        self, request: pb.ListSharesRequest, context: Context
    ) -> pb.ListSharesResponse:
        who = await self._sender(context, SHARES_WRITE)
        views = await shares.list_mine(self._components, who, now=_now())
        return pb.ListSharesResponse(shares=[share_message(view) for view in views])

    async def RevokeShare(
        self, request: pb.RevokeShareRequest, context: Context
    ) -> pb.RevokeShareResponse:
        who = await self._sender(context, SHARES_WRITE)
        view = await shares.revoke(
            self._components,
            who,
            share_id=request.id,
            request_id=request_id(context),
            now=_now(),
        )
        return pb.RevokeShareResponse(share=share_message(view))

    async def GetShareDelivery(
        self, request: pb.GetShareDeliveryRequest, context: Context
    ) -> pb.GetShareDeliveryResponse:
        await self._deliverer(context, request.tenant_id)
        found = await shares.delivery(
            self._components,
            tenant_id=request.tenant_id,
            share_id=request.share_id,
            channel=request.channel,
            now=_now(),
        )
        return pb.GetShareDeliveryResponse(
            address=found.address,
            secret=found.secret,
            kind=SHARE_KINDS[found.kind],
            expire_time=to_timestamp(found.expires_at),
        )

    async def ConfirmShareDelivery(
        self, request: pb.ConfirmShareDeliveryRequest, context: Context
    ) -> pb.ConfirmShareDeliveryResponse:
        await self._deliverer(context, request.tenant_id)
        await shares.confirm_delivery(
            self._components,
            tenant_id=request.tenant_id,
            share_id=request.share_id,
            channel=request.channel,
            now=_now(),
        )
        return pb.ConfirmShareDeliveryResponse()

    async def OpenShare(
        self, request: pb.OpenShareRequest, context: Context
    ) -> pb.OpenShareResponse:
        opened = await shares.open_share(
            self._components,
            token=request.token[:200],
            pin=request.pin[:32],
            request_id=request_id(context),
            now=_now(),
        )
        return pb.OpenShareResponse(
            kind=SHARE_KINDS[opened.kind],
            filename=opened.filename,
            content_type=opened.content_type,
            content=opened.content,
        )
