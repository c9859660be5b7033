"""REST shapes of identity's resources (docs/openapi.json) and their conversion from protobuf."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from fieldvault.identity.v1 import identity_pb2 as pb
from fieldvault_platform import limits
from fieldvault_platform.timestamps import from_timestamp
from gateway.from_proto import ProtoModel

Role = Literal["admin", "dispatcher", "technician", "subcontractor_manager", "auditor", "dpo"]

_USER_STATUS = {
    pb.USER_STATUS_INVITED: "invited",
    pb.USER_STATUS_ACTIVE: "active",
    pb.USER_STATUS_DEACTIVATED: "deactivated",
}
_KIND = {pb.ORGANIZATION_KIND_OWN: "own", pb.ORGANIZATION_KIND_SUBCONTRACTOR: "subcontractor"}


class User(ProtoModel):
    id: str
    tenant_id: str
    email: str
    name: str
    roles: list[str]
    organization_id: str
    area_ids: list[str]
    status: Literal["invited", "active", "deactivated"]
    mfa_enabled: bool
    created_at: datetime
    updated_at: datetime
    etag: str

    proto_names = {"created_at": "create_time", "updated_at": "update_time"}
    fallbacks = {"status": "invited"}

    @classmethod
    def of(cls, user: pb.User) -> User:  # type: ignore[override]
        return cls(
            id=user.id,
            tenant_id=user.tenant_id,
            email=user.email,
            name=user.name,
            roles=list(user.roles),
            organization_id=user.organization_id,
            area_ids=list(user.area_ids),
            status=_USER_STATUS.get(user.status, "invited"),  # type: ignore[arg-type]
            mfa_enabled=user.mfa_enabled,
            created_at=from_timestamp(user, "create_time", required=True),
            updated_at=from_timestamp(user, "update_time", required=True),
            etag=user.etag,
        )


class Organization(ProtoModel):
    id: str
    tenant_id: str
    name: str
    kind: Literal["own", "subcontractor"]
    dpa_signed_on: str | None
    dpa_expires_on: str | None
    dpa_active: bool
    #: The signed DPA stored in customer-vault (``GET /v1/dpa-documents/{id}/content``).
    dpa_document_id: str | None = None
    created_at: datetime
    updated_at: datetime
    etag: str

    proto_names = {"created_at": "create_time", "updated_at": "update_time"}
    fallbacks = {"kind": "subcontractor"}

    @classmethod
    def of(cls, organization: pb.Organization) -> Organization:  # type: ignore[override]
        return cls(
            id=organization.id,
            tenant_id=organization.tenant_id,
            name=organization.name,
            kind=_KIND.get(organization.kind, "subcontractor"),  # type: ignore[arg-type]
            dpa_signed_on=organization.dpa_signed_on or None,
            dpa_expires_on=organization.dpa_expires_on or None,
            dpa_active=organization.dpa_active,
            dpa_document_id=organization.dpa_document_id or None,
            created_at=from_timestamp(organization, "create_time", required=True),
            updated_at=from_timestamp(organization, "update_time", required=True),
            etag=organization.etag,
        )


class Area(ProtoModel):
    id: str
    name: str
    created_at: datetime

    proto_names = {"created_at": "create_time"}

    @classmethod
    def of(cls, area: pb.Area) -> Area:  # type: ignore[override]
        return cls(
            id=area.id,
            name=area.name,
            created_at=from_timestamp(area, "create_time", required=True),
        )


class Tenant(ProtoModel):
    id: str
    slug: str
    name: str
    mfa_required_roles: list[str]
    #: A dispatcher's break-glass reveal needs the authenticator's current code.
    break_glass_step_up_required: bool
    created_at: datetime

    proto_names = {"created_at": "create_time"}

    @classmethod
    def of(cls, tenant: pb.Tenant) -> Tenant:  # type: ignore[override]
        return cls(
            id=tenant.id,
            slug=tenant.slug,
            name=tenant.name,
            mfa_required_roles=list(tenant.mfa_required_roles),
            break_glass_step_up_required=tenant.break_glass_step_up_required,
            created_at=from_timestamp(tenant, "create_time", required=True),
        )


class ApiClient(ProtoModel):
    id: str
    client_id: str
    name: str
    scopes: list[str]
    created_at: datetime

    proto_names = {"created_at": "create_time"}

    @classmethod
    def of(cls, client: pb.ApiClient) -> ApiClient:  # type: ignore[override]
        return cls(
            id=client.id,
            client_id=client.client_id,
            name=client.name,
            scopes=list(client.scopes),
            created_at=from_timestamp(client, "create_time", required=True),
        )


NAME = Field(min_length=1, max_length=limits.NAME)
#: A display name of a person, organisation or area.
Name = Annotated[str, NAME]


def etag_matches(expected: str, current: str) -> bool:
    """``If-Match`` against a current etag, as identity compares them (weak prefix ignored)."""
    return expected.strip().removeprefix("W/") == current
