"""REST shapes of identity's resources (docs/openapi.json), read from protobuf by from_proto."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from fieldvault_platform import limits
from gateway.from_proto import ProtoModel

Role = Literal["admin", "dispatcher", "technician", "subcontractor_manager", "auditor", "dpo"]


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


class Area(ProtoModel):
    id: str
    name: str
    created_at: datetime

    proto_names = {"created_at": "create_time"}


class Tenant(ProtoModel):
    id: str
    slug: str
    name: str
    mfa_required_roles: list[str]
    #: A dispatcher's break-glass reveal needs the authenticator's current code.
    break_glass_step_up_required: bool
    created_at: datetime

    proto_names = {"created_at": "create_time"}


class ApiClient(ProtoModel):
    id: str
    client_id: str
    name: str
    scopes: list[str]
    created_at: datetime

    proto_names = {"created_at": "create_time"}


NAME = Field(min_length=1, max_length=limits.NAME)
#: A display name of a person, organisation or area.
Name = Annotated[str, NAME]


def etag_matches(expected: str, current: str) -> bool:
    """``If-Match`` against a current etag, as identity compares them (weak prefix ignored)."""
    return expected.strip().removeprefix("W/") == current
