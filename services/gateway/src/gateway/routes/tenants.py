"""Tenant provisioning, by the platform operator; the tenant's second-factor policy, by
its admins (identity decides who may: scope ``tenant:manage``)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from fieldvault.identity.v1 import identity_pb2 as pb
from fieldvault_platform import limits
from fieldvault_platform.auth import bearer_metadata
from gateway.auth import bearer_from
from gateway.dependencies import IdentityPeer, IfMatch
from gateway.etags import with_etag
from gateway.for_caller import IDENTITY, IdentityForCaller
from gateway.from_proto import ProtoModel
from gateway.idempotency import RESPONSES as CREATE_RESPONSES
from gateway.idempotency import IdempotencyKey
from gateway.identity_models import NAME, Role, Tenant, User
from gateway.rest import NO_STORE, RequestBody

router = APIRouter(tags=["tenants"])


class TenantCreate(RequestBody):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
    name: str = NAME
    admin_email: str = Field(min_length=3, max_length=limits.EMAIL)
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
    stub = IDENTITY.stub(peer)
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


class TenantPolicy(ProtoModel):
    """Who must use a second factor, and whether a break-glass reveal asks for one."""

    mfa_required_roles: list[str]
    break_glass_step_up_required: bool
    etag: str


class TenantPolicyChange(RequestBody):
    #: The whole list (it replaces the one before); may be empty.
    mfa_required_roles: list[Role]
    #: Absent: unchanged.
    break_glass_step_up_required: bool | None = None


@router.get("/v1/tenant/policy", summary="The tenant's second-factor policy")
async def get_tenant_policy(identity: IdentityForCaller, response: Response) -> TenantPolicy:
    result = await identity.call(identity.stub.GetTenant, pb.GetTenantRequest())
    return with_etag(response, TenantPolicy.of(result.tenant))


@router.put(
    "/v1/tenant/policy",
    summary="Set the tenant's second-factor policy",
    responses={412: {"description": "If-Match is stale (precondition_failed)"}},
)
async def put_tenant_policy(
    body: TenantPolicyChange, identity: IdentityForCaller, response: Response, etag: IfMatch
) -> TenantPolicy:
    request = pb.UpdateTenantPolicyRequest(
        mfa_required_roles=list(body.mfa_required_roles), etag=etag
    )
    if body.break_glass_step_up_required is not None:
        request.break_glass_step_up_required = body.break_glass_step_up_required
    result = await identity.call(identity.stub.UpdateTenantPolicy, request)
    return with_etag(response, TenantPolicy.of(result.tenant))
