"""The tenant's data-handling instructions: published by its admins, acknowledged by every
person before customer data is shown to them, reported by organisation.

identity decides who may (``tenant:manage`` to publish, every signed-in person to read and
acknowledge, ``instructions:report`` for the report); customer_vault enforces the
acknowledgement (403 ``instructions_not_acknowledged`` with ``instructions_version``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from fieldvault.identity.v1 import identity_pb2 as pb
from fieldvault_platform.timestamps import from_timestamp
from gateway.for_caller import IdentityForCaller
from gateway.from_proto import ProtoModel
from gateway.idempotency import RESPONSES as CREATE_RESPONSES
from gateway.idempotency import IdempotencyKey
from gateway.rest import RequestBody

router = APIRouter(tags=["instructions"])


class HandlingInstructions(ProtoModel):
    version: int
    #: CommonMark. Show it rendered with raw HTML escaped (the web app does).
    markdown: str
    published_at: datetime
    #: From then on a person must have acknowledged this version (or a newer one).
    effective_from: datetime
    grace_days: int
    published_by: str

    proto_names = {"published_at": "publish_time", "effective_from": "effective_time"}


class InstructionsPublish(RequestBody):
    markdown: str = Field(min_length=1, max_length=50_000)
    #: Days until the new version is binding; until then the previous one still suffices.
    grace_days: int = Field(default=0, ge=0, le=90)


class CurrentInstructions(BaseModel):
    #: None while the tenant has published none (nothing is required then).
    instructions: HandlingInstructions | None
    #: The newest version the caller acknowledged; 0 = none.
    acknowledged_version: int
    #: The version in force now (0 = none yet).
    required_version: int
    #: True when the caller has not acknowledged the latest version.
    acknowledgement_due: bool


class Acknowledgement(BaseModel):
    version: int
    acknowledged_at: datetime


class Reader(ProtoModel):
    user_id: str
    name: str
    roles: list[str]
    acknowledged_version: int
    acknowledged_at: datetime | None

    proto_names = {"acknowledged_at": "acknowledge_time"}


class OrganizationReport(ProtoModel):
    organization_id: str
    name: str
    kind: Literal["own", "subcontractor"]
    acknowledged: list[Reader]
    pending: list[Reader]

    fallbacks = {"kind": "subcontractor"}


class InstructionsReport(BaseModel):
    instructions: HandlingInstructions
    organizations: list[OrganizationReport]


@router.post(
    "/v1/tenant/instructions",
    status_code=201,
    summary="Publish a new version of the data-handling instructions (admin)",
    dependencies=[IdempotencyKey],
    responses=CREATE_RESPONSES,
)
async def publish_instructions(
    body: InstructionsPublish, identity: IdentityForCaller
) -> HandlingInstructions:
    result = await identity.call(
        identity.stub.PublishInstructions,
        pb.PublishInstructionsRequest(markdown=body.markdown, grace_days=body.grace_days),
    )
    return HandlingInstructions.of(result.instructions)


@router.get(
    "/v1/tenant/instructions",
    summary="The current data-handling instructions and where the caller stands",
)
async def get_current_instructions(
    identity: IdentityForCaller, response: Response
) -> CurrentInstructions:
    result = await identity.call(
        identity.stub.GetCurrentInstructions, pb.GetCurrentInstructionsRequest()
    )
    response.headers["Cache-Control"] = "no-store"
    latest = result.instructions if result.HasField("instructions") else None
    return CurrentInstructions(
        instructions=HandlingInstructions.of(latest) if latest is not None else None,
        acknowledged_version=result.acknowledged_version,
        required_version=result.required_version,
        acknowledgement_due=latest is not None and result.acknowledged_version < latest.version,
    )


@router.put(
    "/v1/tenant/instructions/{version}/acknowledgement",
    summary="Acknowledge a version of the data-handling instructions (the caller)",
    responses={
        409: {"description": "Not the latest version (not_current_version): read the latest"}
    },
)
async def acknowledge_instructions(
    identity: IdentityForCaller, version: int = Path(ge=1, le=1_000_000)
) -> Acknowledgement:
    result = await identity.call(
        identity.stub.AcknowledgeInstructions, pb.AcknowledgeInstructionsRequest(version=version)
    )
    return Acknowledgement(
        version=result.version,
        acknowledged_at=from_timestamp(result, "acknowledge_time", required=True),
    )


@router.get(
    "/v1/tenant/instructions/report",
    summary="Who has and has not acknowledged the instructions, by organisation",
)
async def get_instructions_report(
    identity: IdentityForCaller,
    response: Response,
    version: int = Query(default=0, ge=0, le=1_000_000, description="0 = the latest"),
) -> InstructionsReport:
    result = await identity.call(
        identity.stub.GetInstructionsReport, pb.GetInstructionsReportRequest(version=version)
    )
    response.headers["Cache-Control"] = "no-store"
    return InstructionsReport(
        instructions=HandlingInstructions.of(result.instructions),
        organizations=[OrganizationReport.of(status) for status in result.organizations],
    )
