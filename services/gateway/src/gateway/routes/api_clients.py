"""Partner systems' API clients (OAuth2 client credentials)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from pydantic import Field

from fieldvault.identity.v1 import identity_pb2 as pb
from gateway.for_caller import IdentityForCaller
from gateway.idempotency import RESPONSES as CREATE_RESPONSES
from gateway.idempotency import IdempotencyKey
from gateway.identity_models import NAME, ApiClient
from gateway.rest import NO_STORE, Page, PageSize, RequestBody

router = APIRouter(tags=["api clients"])

PartnerScope = Literal[
    "work_orders:read", "work_orders:write", "customers:read", "customers:write", "webhooks:manage"
]


class ApiClientCreate(RequestBody):
    name: str = NAME
    scopes: list[PartnerScope] = Field(min_length=1)


class ApiClientCreated(ApiClient):
    #: Shown once; only a keyed hash is kept.
    client_secret: str


class ApiClientList(Page):
    items: list[ApiClient]


@router.get("/v1/api-clients", summary="List API clients")
async def list_api_clients(
    identity: IdentityForCaller, page_size: PageSize = 50, page_token: str = ""
) -> ApiClientList:
    result = await identity.call(
        identity.stub.ListApiClients,
        pb.ListApiClientsRequest(page_size=page_size, page_token=page_token),
    )
    return ApiClientList(
        items=[ApiClient.of(c) for c in result.api_clients],
        next_page_token=result.next_page_token,
    )


@router.post(
    "/v1/api-clients",
    status_code=201,
    summary="Create an API client",
    dependencies=[IdempotencyKey],
    responses=CREATE_RESPONSES,
)
async def create_api_client(
    body: ApiClientCreate, identity: IdentityForCaller, response: Response
) -> ApiClientCreated:
    result = await identity.call(
        identity.stub.CreateApiClient,
        pb.CreateApiClientRequest(name=body.name, scopes=list(body.scopes)),
    )
    response.headers.update(NO_STORE)
    return ApiClientCreated(
        **ApiClient.of(result.api_client).model_dump(), client_secret=result.client_secret
    )


@router.delete("/v1/api-clients/{client_id}", status_code=204, summary="Revoke an API client")
async def delete_api_client(client_id: str, identity: IdentityForCaller) -> Response:
    await identity.call(identity.stub.DeleteApiClient, pb.DeleteApiClientRequest(id=client_id))
    return Response(status_code=204)
