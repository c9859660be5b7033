"""GDPR reports: the record of processing activities (Art. 30), a customer's access report
and the breach question — who could and who did reveal a site's codes.

customer_vault builds and authorises each (scopes ``processing_record:read``,
``customers:export``, ``audit:read``); the gateway checks the document's shape and
passes it on unchanged, never cached.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ValidationError

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault_platform.timestamps import to_timestamp
from gateway.dependencies import RequestId
from gateway.for_caller import CustomerVaultForCaller
from gateway.gdpr_report_models import CustomerAccessReport, ProcessingRecord, SiteAccessQuery
from gateway.problems import Problem
from gateway.rest import NO_STORE, Moment

log = logging.getLogger(__name__)

router = APIRouter(tags=["gdpr"])

SiteIdQuery = Annotated[str, Query(min_length=1, max_length=64, description="The site asked about")]
FromQuery = Annotated[
    Moment,
    Query(alias="from", description="Start of the range (RFC 3339 with an offset), inclusive"),
]
ToQuery = Annotated[
    Moment,
    Query(alias="to", description="End of the range (RFC 3339 with an offset), exclusive"),
]


def _document(model: type[BaseModel], document: bytes) -> Response:
    """Only a well-formed document leaves here; a malformed one is a generic 500.

    The validation error quotes the document, which may hold a stated reason:
    it goes nowhere, only the number of errors is logged.
    """
    try:
        model.model_validate_json(document)
    except ValidationError as exc:
        log.error(
            "customer_vault sent a malformed %s (%d errors)", model.__name__, exc.error_count()
        )
        raise Problem(500, "internal", "the report could not be produced") from None
    return Response(content=document, media_type="application/json", headers=NO_STORE)


@router.get(
    "/v1/records-of-processing",
    summary="The tenant's record of processing activities (GDPR Art. 30)",
    description=(
        "Built when asked from what fieldvault knows: purposes, categories of data subjects "
        "and data with how many are held, the subcontractors with their DPA dates and signed "
        "DPA documents, the platform's sub-processors (hosting, SMS, e-mail), retention "
        "periods and the technical measures. Admins and DPOs. No customer, person or value."
    ),
    response_class=Response,
    responses={
        200: {
            "description": "The record",
            "model": ProcessingRecord,
            "content": {"application/json": {}},
        },
    },
)
async def get_records_of_processing(vault: CustomerVaultForCaller) -> Response:
    result = await vault.call(vault.stub.GetProcessingRecord, pb.GetProcessingRecordRequest())
    return _document(ProcessingRecord, result.document)


@router.get(
    "/v1/customers/{customer_id}/access-report",
    summary="Every reveal, export, break-glass and contract download of a customer's data",
    description=(
        "Oldest first: who, when, from which organisation, for which work order or with which "
        "reason; refused attempts too (`outcome: denied`). DPOs. Asking is itself audited. "
        "Works for an erased customer too (the history stays)."
    ),
    response_class=Response,
    responses={
        200: {
            "description": "The access report",
            "model": CustomerAccessReport,
            "content": {"application/json": {}},
        },
        400: {"description": "`since` is not before `until` (invalid_argument)"},
    },
)
async def get_customer_access_report(
    customer_id: str,
    vault: CustomerVaultForCaller,
    request_id: RequestId,
    since: Annotated[
        Moment | None, Query(description="Only accesses at or after (RFC 3339)")
    ] = None,
    until: Annotated[Moment | None, Query(description="Only accesses before (RFC 3339)")] = None,
) -> Response:
    result = await vault.call(
        vault.stub.GetCustomerAccessReport,
        pb.GetCustomerAccessReportRequest(
            customer_id=customer_id,
            since=to_timestamp(since),
            until=to_timestamp(until),
            request_id=request_id,
        ),
    )
    return _document(CustomerAccessReport, result.document)


@router.get(
    "/v1/access-query",
    summary="Who could and who did reveal each code of a site in a time range",
    description=(
        "For a suspected breach. *Could*: every grant for the code in force at some moment "
        "of `[from, to)`, the dispatchers of the site's area (break-glass) and the DPOs "
        "(exports with values) as they are now; *did*: every successful reveal and export "
        "with values in the range. Auditors and DPOs. Never a value."
    ),
    response_class=Response,
    responses={
        200: {
            "description": "The answer, per code kind",
            "model": SiteAccessQuery,
            "content": {"application/json": {}},
        },
        400: {"description": "`from` is not before `to`, or the range is too long"},
    },
)
async def query_site_access(
    vault: CustomerVaultForCaller,
    request_id: RequestId,
    site_id: SiteIdQuery,
    range_from: FromQuery,
    range_to: ToQuery,
) -> Response:
    result = await vault.call(
        vault.stub.QuerySiteAccess,
        pb.QuerySiteAccessRequest(
            site_id=site_id,
            from_time=to_timestamp(range_from),
            to_time=to_timestamp(range_to),
            request_id=request_id,
        ),
    )
    return _document(SiteAccessQuery, result.document)
