"""Customers: their contact data (encrypted in customer_vault), GDPR export and erasure."""

from __future__ import annotations

from typing import Annotated, Self

from fastapi import APIRouter, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ConfigDict, Field, model_validator

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault_platform import limits
from gateway.customer_vault_models import Customer, CustomerExport, ErasedCustomer
from gateway.dependencies import IfMatch, RequestId
from gateway.etags import with_etag
from gateway.for_caller import CustomerVaultForCaller
from gateway.idempotency import RESPONSES as CREATE_RESPONSES
from gateway.idempotency import replayed_by_reading
from gateway.identity_models import NAME, Name, etag_matches
from gateway.problems import Problem
from gateway.rest import NO_STORE, Page, PageSize, RequestBody, precondition_failed

router = APIRouter(tags=["customers"])

EMAIL = Field(default=None, max_length=limits.EMAIL)
PHONE = Field(default=None, max_length=limits.PHONE)
ADDRESS = Field(default=None, max_length=limits.ADDRESS)
NOTES = Field(default=None, max_length=limits.NOTES)
AREA_ID = Field(default=None, max_length=64)

#: The optional members of a customer: ``null`` or ``""`` leaves (or makes) them empty.
_OPTIONAL = ("email", "phone", "address", "notes", "area_id")


class CustomerCreate(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Harbour Bakery Ltd",
                    "email": "office@harbour-bakery.example",
                    "phone": "+44 20 7946 0123",
                    "address": "12 Quay Street, Bristol",
                }
            ]
        }
    )

    name: str = NAME
    email: str | None = EMAIL
    phone: str | None = PHONE
    address: str | None = ADDRESS
    notes: str | None = NOTES
    #: Omitted: the area of a dispatcher who has exactly one.
    area_id: str | None = AREA_ID


class CustomerPatch(RequestBody):
    """Only the members present change; ``null`` or ``""`` clears an optional one. ``name``
    cannot be null. Any other member (e.g. ``id`` or ``etag`` of a copy read earlier) is
    refused (422)."""

    name: Name | None = None
    email: str | None = EMAIL
    phone: str | None = PHONE
    address: str | None = ADDRESS
    notes: str | None = NOTES
    area_id: str | None = AREA_ID

    @model_validator(mode="after")
    def _a_known_change(self) -> Self:
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("name cannot be null")
        if not self.model_fields_set:
            raise ValueError(f"nothing to change: give name, {', '.join(_OPTIONAL)}")
        return self

    def changes(self) -> dict[str, str]:
        """The members present, as the optional fields of ``UpdateCustomerRequest``."""
        return {field: getattr(self, field) or "" for field in sorted(self.model_fields_set)}


class CustomerList(Page):
    items: list[Customer]


class Erasure(RequestBody):
    #: Recorded in the audit trail.
    reason: str = Field(min_length=1, max_length=limits.AUDIT_REASON)


@router.get(
    "/v1/customers",
    summary="List customers, or find them by exact email, phone or whole name",
)
async def list_customers(
    vault: CustomerVaultForCaller,
    email: str = "",
    phone: str = "",
    name: Annotated[
        str,
        Query(
            max_length=200,
            description="The whole name, exactly (case, width and runs of spaces aside); "
            "never a prefix or part. At most one of email, phone and name (else 422).",
        ),
    ] = "",
    area_id: str = "",
    page_size: PageSize = 50,
    page_token: str = "",
) -> CustomerList:
    terms = [term for term, value in (("email", email), ("phone", phone), ("name", name)) if value]
    if len(terms) > 1:
        # customer_vault refuses it too; here it is a clear 422 before any call.
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", terms[-1]),
                    "msg": "search by one of email, phone and name, not " + " and ".join(terms),
                }
            ]
        )
    result = await vault.call(
        vault.stub.ListCustomers,
        pb.ListCustomersRequest(
            page_size=page_size,
            page_token=page_token,
            email=email,
            phone=phone,
            name=name,
            area_id=area_id,
        ),
    )
    return CustomerList(
        items=[Customer.of(c) for c in result.customers], next_page_token=result.next_page_token
    )


@router.post(
    "/v1/customers",
    status_code=201,
    summary="Create a customer",
    dependencies=[replayed_by_reading("/v1/customers/{id}")],
    responses=CREATE_RESPONSES,
)
async def create_customer(
    body: CustomerCreate, vault: CustomerVaultForCaller, response: Response
) -> Customer:
    result = await vault.call(
        vault.stub.CreateCustomer,
        pb.CreateCustomerRequest(
            name=body.name,
            email=body.email or "",
            phone=body.phone or "",
            address=body.address or "",
            notes=body.notes or "",
            area_id=body.area_id or "",
        ),
    )
    return with_etag(response, Customer.of(result.customer))


@router.get(
    "/v1/customers/{customer_id}",
    summary="One customer",
    responses={410: {"description": "The customer was erased (erased)"}},
)
async def get_customer(
    customer_id: str, vault: CustomerVaultForCaller, response: Response
) -> Customer:
    result = await vault.call(vault.stub.GetCustomer, pb.GetCustomerRequest(id=customer_id))
    return with_etag(response, Customer.of(result.customer))


@router.patch(
    "/v1/customers/{customer_id}",
    summary="Change a customer's details (null or empty clears an optional one)",
    responses={
        410: {"description": "The customer was erased (erased)"},
        412: {"description": "If-Match is stale (precondition_failed)"},
    },
)
async def update_customer(
    customer_id: str,
    body: CustomerPatch,
    vault: CustomerVaultForCaller,
    response: Response,
    etag: IfMatch,
) -> Customer:
    result = await vault.call(
        vault.stub.UpdateCustomer,
        pb.UpdateCustomerRequest(id=customer_id, etag=etag, **body.changes()),
    )
    return with_etag(response, Customer.of(result.customer))


@router.get(
    "/v1/customers/{customer_id}/export",
    summary="Everything held about a customer, with who accessed it and when (GDPR Art. 15/20)",
    description=(
        "Codes are listed by kind, version, author and date without their values. With "
        "`include_secret_values=true` and a `reason` the values are included: that export is "
        "audited with the kinds it revealed, the tenant's auditors are told, and each DPO "
        "may make only a few per day (429 `rate_limited` with Retry-After beyond that)."
    ),
    response_class=Response,
    responses={
        200: {
            "description": "The export document",
            "model": CustomerExport,
            "content": {"application/json": {}},
        },
        410: {"description": "The customer was erased (erased)"},
        422: {"description": "Values asked for without a reason (validation_error)"},
        429: {"description": "Too many exports with code values (rate_limited)"},
    },
)
async def export_customer(
    customer_id: str,
    vault: CustomerVaultForCaller,
    request_id: RequestId,
    include_secret_values: Annotated[
        bool, Query(description="Include the codes' values (needs a reason)")
    ] = False,
    reason: Annotated[
        str | None,
        Query(max_length=limits.AUDIT_REASON, description="Why the values are needed (audited)"),
    ] = None,
) -> Response:
    if include_secret_values and not (reason or "").strip():
        raise RequestValidationError(
            [
                {
                    "type": "missing",
                    "loc": ("query", "reason"),
                    "msg": "a reason is required when include_secret_values is true",
                }
            ]
        )
    result = await vault.call(
        vault.stub.ExportCustomer,
        pb.ExportCustomerRequest(
            id=customer_id,
            request_id=request_id,
            include_secret_values=include_secret_values,
            reason=reason or "",
        ),
    )
    # Only a well-formed document leaves here (a malformed one is a 500, not a download),
    # and never one with code values that were not asked for.
    document = CustomerExport.model_validate_json(result.document)
    if document.carries_code_values() and not include_secret_values:
        raise Problem(500, "internal", "the export could not be produced")
    return Response(content=result.document, media_type="application/json", headers=NO_STORE)


@router.post(
    "/v1/customers/{customer_id}/erase",
    summary="Erase a customer's personal data and secrets for good (GDPR Art. 17)",
    responses={
        410: {"description": "Already erased (erased)"},
        412: {"description": "If-Match is stale (precondition_failed)"},
    },
)
async def erase_customer(
    customer_id: str,
    body: Erasure,
    vault: CustomerVaultForCaller,
    etag: IfMatch,
    request_id: RequestId,
) -> ErasedCustomer:
    if etag:
        # EraseCustomer takes no etag: compare here, as for a user's deactivation. A
        # change landing between the read and the erasure is not caught, which is
        # harmless for a one-way step that destroys every version of the data.
        current = await vault.call(vault.stub.GetCustomer, pb.GetCustomerRequest(id=customer_id))
        if not etag_matches(etag, current.customer.etag):
            raise precondition_failed()
    result = await vault.call(
        vault.stub.EraseCustomer,
        pb.EraseCustomerRequest(id=customer_id, reason=body.reason, request_id=request_id),
    )
    return ErasedCustomer.of(result)
