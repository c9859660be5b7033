"""The physical key register: keys, fobs and cards held for a site, who has them, and a
found key's tag.

customer_vault decides everything: the office (dispatchers of the site's area,
admins) registers, hands out and takes back keys; a key goes only to a
technician with an active grant at its site; a scanned tag names its site only
to the area's dispatchers and admins — anyone else gets 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from gateway.dependencies import RequestId
from gateway.for_caller import CustomerVaultForCaller
from gateway.from_proto import ProtoModel
from gateway.idempotency import RESPONSES as CREATE_RESPONSES
from gateway.idempotency import IdempotencyKey
from gateway.rest import NO_STORE, RequestBody

router = APIRouter(tags=["keys"])

KeyKind = Literal["key", "fob", "card"]
KeyStatus = Literal["in_office", "checked_out", "lost"]
ID = Field(min_length=1, max_length=36)


class PhysicalKey(ProtoModel):
    id: str
    site_id: str
    kind: KeyKind
    #: What the office calls it ("main entrance"); null when not given.
    label: str | None
    status: KeyStatus
    created_at: datetime | None
    #: While checked out: who holds it, for which job, since when, and when it is due
    #: back (the end of the job's grant plus the grace period); null otherwise.
    holder_user_id: str | None
    work_order_id: str | None
    checked_out_at: datetime | None
    due_at: datetime | None
    overdue: bool
    lost_at: datetime | None

    proto_names = {
        "created_at": "create_time",
        "checked_out_at": "checked_out_time",
        "due_at": "due_time",
        "lost_at": "lost_time",
    }


class KeyCreate(RequestBody):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"kind": "key", "label": "Main entrance"}]}
    )

    kind: KeyKind
    label: str | None = Field(default=None, max_length=200)


class KeyRegistered(BaseModel):
    key: PhysicalKey
    #: Print it on the key's tag; shown only in this answer (only its keyed hash is stored).
    tag_code: str


class KeyList(BaseModel):
    """A site's keys (not paged: a site has a few)."""

    items: list[PhysicalKey]


class CheckOut(RequestBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"user_id": "usr_01HZX9", "work_order_id": "wo_01J0A"}]},
    )

    #: The technician taking the key; they need an active grant at the key's site.
    user_id: str = ID
    #: The job it is for; omitted: any of the technician's active grants at the site.
    work_order_id: str | None = Field(default=None, min_length=1, max_length=36)


class FoundKey(BaseModel):
    key: PhysicalKey
    #: The site the key opens.
    site_name: str
    customer_id: str


@router.post(
    "/v1/sites/{site_id}/keys",
    status_code=201,
    summary="Register a key, fob or card of a site; answers its tag code once",
    dependencies=[IdempotencyKey],
    responses=CREATE_RESPONSES,
)
async def register_key(
    site_id: str,
    body: KeyCreate,
    vault: CustomerVaultForCaller,
    request_id: RequestId,
    response: Response,
) -> KeyRegistered:
    result = await vault.call(
        vault.stub.RegisterKey,
        pb.RegisterKeyRequest(
            site_id=site_id, kind=body.kind, label=body.label or "", request_id=request_id
        ),
    )
    response.headers.update(NO_STORE)
    return KeyRegistered(key=PhysicalKey.of(result.key), tag_code=result.tag_code)


@router.get("/v1/sites/{site_id}/keys", summary="A site's keys and who holds them")
async def list_site_keys(site_id: str, vault: CustomerVaultForCaller) -> KeyList:
    result = await vault.call(vault.stub.ListSiteKeys, pb.ListSiteKeysRequest(site_id=site_id))
    return KeyList(items=[PhysicalKey.of(key) for key in result.keys])


@router.post(
    "/v1/keys/{key_id}/check-out",
    summary="Hand a key to a technician with an active grant at its site",
    responses={
        409: {
            "description": "The technician has no active grant at the key's site "
            "(no_active_grant), the key is out with someone else (key_out) or lost (key_lost)"
        }
    },
)
async def check_out_key(
    key_id: str, body: CheckOut, vault: CustomerVaultForCaller, request_id: RequestId
) -> PhysicalKey:
    result = await vault.call(
        vault.stub.CheckOutKey,
        pb.CheckOutKeyRequest(
            key_id=key_id,
            user_id=body.user_id,
            work_order_id=body.work_order_id or "",
            request_id=request_id,
        ),
    )
    return PhysicalKey.of(result.key)


@router.post(
    "/v1/keys/{key_id}/check-in",
    summary="A key is back in the office (also a lost key found again); the office or its holder",
)
async def check_in_key(
    key_id: str, vault: CustomerVaultForCaller, request_id: RequestId
) -> PhysicalKey:
    result = await vault.call(
        vault.stub.CheckInKey, pb.CheckInKeyRequest(key_id=key_id, request_id=request_id)
    )
    return PhysicalKey.of(result.key)


@router.post(
    "/v1/keys/{key_id}/lost",
    summary="Mark a key lost: opens a 'change the lock' rotation task; the office or its holder",
)
async def mark_key_lost(
    key_id: str, vault: CustomerVaultForCaller, request_id: RequestId
) -> PhysicalKey:
    result = await vault.call(
        vault.stub.MarkKeyLost, pb.MarkKeyLostRequest(key_id=key_id, request_id=request_id)
    )
    return PhysicalKey.of(result.key)


@router.get(
    "/v1/keys",
    summary="Which site a found key's tag opens: the area's dispatchers and admins only",
    responses={404: {"description": "No key with that tag that you may know of (not_found)"}},
)
async def find_key_by_tag(
    vault: CustomerVaultForCaller,
    request_id: RequestId,
    response: Response,
    tag: str = Query(min_length=1, max_length=40, description="The code on the tag"),
) -> FoundKey:
    """Everyone but the dispatchers of the key's area and admins gets 404, as for a tag
    that is no key's; every scan is audited."""
    result = await vault.call(
        vault.stub.FindKeyByTag, pb.FindKeyByTagRequest(tag_code=tag, request_id=request_id)
    )
    response.headers.update(NO_STORE)
    return FoundKey(
        key=PhysicalKey.of(result.key), site_name=result.site_name, customer_id=result.customer_id
    )


@router.get("/v1/me/keys", tags=["me"], summary="The keys I hold now, and when each is due back")
async def list_my_keys(vault: CustomerVaultForCaller) -> KeyList:
    result = await vault.call(vault.stub.ListMyKeys, pb.ListMyKeysRequest())
    return KeyList(items=[PhysicalKey.of(key) for key in result.keys])
