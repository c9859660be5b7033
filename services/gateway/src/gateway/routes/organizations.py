"""Organisations: the own company and subcontractors with their DPA dates."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel

from fieldvault.identity.v1 import identity_pb2 as pb
from gateway.identity_client import IdentityForCaller
from gateway.identity_models import NAME, Organization, Page
from gateway.routes.areas import PageSize

router = APIRouter(tags=["organizations"])


class OrganizationCreate(BaseModel):
    name: str = NAME
    kind: Literal["subcontractor"] = "subcontractor"
    dpa_signed_on: date | None = None
    dpa_expires_on: date | None = None


class OrganizationPatch(BaseModel):
    name: str | None = NAME
    dpa_signed_on: date | None = None
    dpa_expires_on: date | None = None


class OrganizationList(Page):
    items: list[Organization]


def _iso(day: date | None) -> str:
    return day.isoformat() if day is not None else ""


def _with_etag(response: Response, organization: Organization) -> Organization:
    response.headers["ETag"] = organization.etag
    return organization


@router.get("/v1/organizations", summary="List organisations")
async def list_organizations(
    identity: IdentityForCaller, page_size: PageSize = 50, page_token: str = ""
) -> OrganizationList:
    result = await identity.call(
        identity.stub.ListOrganizations,
        pb.ListOrganizationsRequest(page_size=page_size, page_token=page_token),
    )
    return OrganizationList(
        items=[Organization.of(o) for o in result.organizations],
        next_page_token=result.next_page_token,
    )


@router.post("/v1/organizations", status_code=201, summary="Add a subcontractor")
async def create_organization(
    body: OrganizationCreate, identity: IdentityForCaller, response: Response
) -> Organization:
    result = await identity.call(
        identity.stub.CreateOrganization,
        pb.CreateOrganizationRequest(
            name=body.name,
            kind=pb.ORGANIZATION_KIND_SUBCONTRACTOR,
            dpa_signed_on=_iso(body.dpa_signed_on),
            dpa_expires_on=_iso(body.dpa_expires_on),
        ),
    )
    return _with_etag(response, Organization.of(result.organization))


@router.get("/v1/organizations/{organization_id}", summary="One organisation")
async def get_organization(
    organization_id: str, identity: IdentityForCaller, response: Response
) -> Organization:
    result = await identity.call(
        identity.stub.GetOrganization, pb.GetOrganizationRequest(id=organization_id)
    )
    return _with_etag(response, Organization.of(result.organization))


@router.patch(
    "/v1/organizations/{organization_id}",
    summary="Rename, or set, change or clear the DPA dates (null clears)",
)
async def update_organization(
    organization_id: str,
    body: OrganizationPatch,
    identity: IdentityForCaller,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> Organization:
    mask = sorted(body.model_fields_set)
    result = await identity.call(
        identity.stub.UpdateOrganization,
        pb.UpdateOrganizationRequest(
            id=organization_id,
            update_mask=mask,
            name=body.name or "",
            dpa_signed_on=_iso(body.dpa_signed_on),
            dpa_expires_on=_iso(body.dpa_expires_on),
            etag=if_match or "",
        ),
    )
    return _with_etag(response, Organization.of(result.organization))
