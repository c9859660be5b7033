"""Tenant provisioning, by the platform operator."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from fieldvault.identity.v1 import identity_pb2 as pb
from fieldvault_platform.auth import bearer_metadata
from gateway.auth import bearer_from
from gateway.customer_vault_models import RequestBody
from gateway.dependencies import IdentityPeer
from gateway.idempotency import RESPONSES as CREATE_RESPONSES
from gateway.idempotency import IdempotencyKey
from gateway.identity_client import identity_stub
from gateway.identity_models import NAME, Tenant, User
from gateway.routes.auth import NO_STORE

router = APIRouter(tags=["tenants"])


class TenantCreate(RequestBody):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
    name: str = NAME
    admin_email: str = Field(min_length=3, max_length=320)
    admin_name: str = NAME


class TenantCreated(BaseModel):
    tenant: Tenant
    admin_user: User
    #: Shown once; the admin sets their own password there.
    admin_invitation_url: str


@router.post(
    "/v1/tenants",
    status_code=201,
    summary="Create a tenant (platform operator token)",
    dependencies=[IdempotencyKey],
    responses=CREATE_RESPONSES,
)
async def create_tenant(
    body: TenantCreate, request: Request, peer: IdentityPeer, response: Response
) -> TenantCreated:
    # The operator token is not a JWT: it is forwarded as it came, never verified
    # here, and identity compares it with the hash it is configured with.
    operator_token = bearer_from(request)
    stub = identity_stub(peer)
    result = await peer.call(
        stub.CreateTenant,
        pb.CreateTenantRequest(
            slug=body.slug,
            name=body.name,
            admin_email=body.admin_email,
            admin_name=body.admin_name,
        ),
        metadata=bearer_metadata(operator_token),
    )
    response.headers.update(NO_STORE)
    return TenantCreated(
        tenant=Tenant.of(result.tenant),
        admin_user=User.of(result.admin_user),
        admin_invitation_url=result.admin_invitation_url,
    )
