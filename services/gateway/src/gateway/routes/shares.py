"""Two-channel secure shares: a contract, a DPA document or a one-off credential for an
external recipient, the link by e-mail and the PIN by SMS (docs/security-model.md#secure-sharing).

Senders (admins and DPOs; a credential: admins) create, list and revoke their shares;
no answer ever holds the link, the PIN or the recipient's address. Opening is public —
the link token and the PIN are the credential — and is meant for the web app's page,
which asks for the PIN: the document or credential is served once, ``no-store``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import ConfigDict, Field

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault_platform import limits
from gateway.dependencies import CustomerVaultPeer, RequestId
from gateway.for_caller import CUSTOMER_VAULT, CustomerVaultForCaller
from gateway.from_proto import ProtoModel
from gateway.idempotency import RESPONSES as CREATE_RESPONSES
from gateway.idempotency import replayed_by_reading
from gateway.rest import NO_STORE, Page, RequestBody
from gateway.uploads import attachment

router = APIRouter(tags=["shares"])

ShareKindName = Literal["contract", "dpa_document", "credential"]
ShareStatusName = Literal["active", "opened", "revoked", "expired", "locked"]
_KIND_BY_NAME: dict[str, pb.ShareKind] = {
    "contract": pb.SHARE_KIND_CONTRACT,
    "dpa_document": pb.SHARE_KIND_DPA_DOCUMENT,
    "credential": pb.SHARE_KIND_CREDENTIAL,
}
#: Where the public opening lives (its own rate-limit bucket per client address).
OPEN_PATH = "/v1/shares/open"


class ShareCreate(RequestBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "contract",
                    "document_id": "6f1c7a52-3f55-4d8e-9d7c-0c2b1a8e4f10",
                    "recipient_email": "board@harbour-bakery.example",
                    "recipient_phone": "+358 40 123 4567",
                    "expires_in_hours": 72,
                    "label": "Board copy",
                }
            ]
        },
    )

    kind: ShareKindName
    #: The contract's or DPA document's id; omitted for a credential.
    document_id: str | None = Field(default=None, max_length=64)
    #: For a credential only: the one-off value, sealed until opened.
    credential: str | None = Field(default=None, max_length=2000)
    recipient_email: str = Field(min_length=3, max_length=limits.EMAIL)
    recipient_phone: str = Field(min_length=4, max_length=limits.PHONE)
    #: Omitted: the deployment's default (72 h); at most its maximum (14 days).
    expires_in_hours: int | None = Field(default=None, ge=1, le=24 * 90)
    #: The sender's own note, shown only in their list.
    label: str | None = Field(default=None, max_length=100)


class Share(ProtoModel):
    """A share as its sender sees it: never the link, the PIN or the recipient."""

    id: str
    kind: ShareKindName
    document_id: str | None
    status: ShareStatusName
    label: str
    created_by: str
    created_at: datetime | None
    expires_at: datetime | None
    opened_at: datetime | None
    failed_attempts: int
    max_attempts: int
    email_sent: bool
    sms_sent: bool

    proto_names = {
        "created_at": "create_time",
        "expires_at": "expire_time",
        "opened_at": "opened_time",
    }


class ShareList(Page):
    """The caller's own shares, newest first (not paged; the latest 200)."""

    items: list[Share]


class ShareOpen(RequestBody):
    #: The token from the e-mailed link (``…/shared#token=<token>``).
    token: str = Field(min_length=10, max_length=200)
    #: The PIN from the SMS.
    pin: str = Field(min_length=1, max_length=32)


@router.post(
    "/v1/shares",
    status_code=201,
    summary="Share a contract, DPA document or one-off credential: link by e-mail, PIN by SMS",
    dependencies=[replayed_by_reading("/v1/shares", listed=True)],
    responses={
        **CREATE_RESPONSES,
        403: {"description": "The caller may not share this kind (permission_denied)"},
        404: {"description": "No such document visible to the caller (not_found)"},
        410: {"description": "The customer was erased (erased)"},
    },
)
async def create_share(
    body: ShareCreate, vault: CustomerVaultForCaller, request_id: RequestId
) -> Share:
    result = await vault.call(
        vault.stub.CreateShare,
        pb.CreateShareRequest(
            kind=_KIND_BY_NAME[body.kind],
            document_id=body.document_id or "",
            credential=body.credential or "",
            recipient_email=body.recipient_email,
            recipient_phone=body.recipient_phone,
            expires_in_hours=body.expires_in_hours or 0,
            label=body.label or "",
            request_id=request_id,
        ),
    )
    return Share.of(result.share)


@router.get("/v1/shares", summary="The shares I sent")
async def list_shares(vault: CustomerVaultForCaller) -> ShareList:
    result = await vault.call(vault.stub.ListShares, pb.ListSharesRequest())
    return ShareList(items=[Share.of(share) for share in result.shares])


@router.post(
    "/v1/shares/{share_id}/revoke",
    summary="Revoke a share I sent (no-op when it is already dead)",
    responses={404: {"description": "Not a share the caller sent (not_found)"}},
)
async def revoke_share(share_id: str, vault: CustomerVaultForCaller) -> Share:
    result = await vault.call(vault.stub.RevokeShare, pb.RevokeShareRequest(id=share_id))
    return Share.of(result.share)


@router.post(
    OPEN_PATH,
    summary="Open a share with its link token and PIN (public; once; no-store)",
    response_class=Response,
    responses={
        200: {
            "description": "The document as an attachment, or the credential as text/plain",
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        },
        403: {
            "description": "Wrong PIN on a live share; attempts left in detail (share_pin_wrong)"
        },
        410: {
            "description": "Unknown, opened, revoked, locked or expired: all alike "
            "(share_unavailable)"
        },
    },
)
async def open_share(body: ShareOpen, peer: CustomerVaultPeer, request_id: RequestId) -> Response:
    stub = CUSTOMER_VAULT.stub(peer)
    result = await peer.call(
        stub.OpenShare,
        pb.OpenShareRequest(token=body.token, pin=body.pin),
        metadata=(("x-request-id", request_id),),
    )
    if result.kind == pb.SHARE_KIND_CREDENTIAL:
        return Response(
            content=result.content,
            headers={
                "Content-Type": "text/plain; charset=utf-8",
                "X-Content-Type-Options": "nosniff",
                **NO_STORE,
            },
        )
    response = attachment(result.content, result.content_type, result.filename)
    response.headers.update(NO_STORE)
    return response
