"""Organisations: the own company and subcontractors with their DPA dates."""

from __future__ import annotations

from datetime import date
from typing import Literal, Self

from fastapi import APIRouter, Response
from pydantic import Field, model_validator

from fieldvault.identity.v1 import identity_pb2 as pb
from gateway.dependencies import IfMatch
from gateway.etags import with_etag
from gateway.for_caller import IdentityForCaller
from gateway.idempotency import RESPONSES as CREATE_RESPONSES
from gateway.idempotency import replayed_by_reading
from gateway.identity_models import NAME, Name, Organization
from gateway.rest import Page, PageSize, RequestBody

router = APIRouter(tags=["organizations"])


class OrganizationCreate(RequestBody):
    name: str = NAME
    #: Only subcontractors are created; the own organisation exists from the start.
    kind: Literal["subcontractor"] = "subcontractor"
    dpa_signed_on: date | None = None
    dpa_expires_on: date | None = None


class OrganizationPatch(RequestBody):
    """Only the fields present change; a DPA date set to ``null`` is cleared. ``name``
    cannot be null. Any other member (e.g. ``kind`` or ``etag`` of a copy read
    earlier) is refused (422)."""

    name: Name | None = None
    dpa_signed_on: date | None = None
    dpa_expires_on: date | None = None
    #: A document uploaded with ``POST /v1/organizations/{id}/dpa-documents``; null clears.
    dpa_document_id: str | None = Field(default=None, max_length=36)

    @model_validator(mode="after")
    def _a_known_change(self) -> Self:
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("name cannot be null")
        if not self.model_fields_set:
            raise ValueError(
                "nothing to change: give name, dpa_signed_on, dpa_expires_on or dpa_document_id"
            )
        return self


class OrganizationList(Page):
    items: list[Organization]


def _iso(day: date | None) -> str:
    return day.isoformat() if day is not None else ""


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


@router.post(
    "/v1/organizations",
    status_code=201,
    summary="Add a subcontractor",
    dependencies=[replayed_by_reading("/v1/organizations/{id}")],
    responses=CREATE_RESPONSES,
)
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
    return with_etag(response, Organization.of(result.organization))


@router.get("/v1/organizations/{organization_id}", summary="One organisation")
async def get_organization(
    organization_id: str, identity: IdentityForCaller, response: Response
) -> Organization:
    result = await identity.call(
        identity.stub.GetOrganization, pb.GetOrganizationRequest(id=organization_id)
    )
    return with_etag(response, Organization.of(result.organization))


@router.patch(
    "/v1/organizations/{organization_id}",
    summary="Rename, or set, change or clear the DPA dates (null clears)",
    responses={412: {"description": "If-Match is stale (precondition_failed)"}},
)
async def update_organization(
    organization_id: str,
    body: OrganizationPatch,
    identity: IdentityForCaller,
    response: Response,
    etag: IfMatch,
) -> Organization:
    result = await identity.call(
        identity.stub.UpdateOrganization,
        pb.UpdateOrganizationRequest(
            id=organization_id,
            update_mask=sorted(body.model_fields_set),
            name=body.name or "",
            dpa_signed_on=_iso(body.dpa_signed_on),
            dpa_expires_on=_iso(body.dpa_expires_on),
            dpa_document_id=body.dpa_document_id or "",
            etag=etag,
        ),
    )
    return with_etag(response, Organization.of(result.organization))
