"""Customers' contract documents: upload (bounded), list, download (decrypted, audited).

Uploads and downloads go through :mod:`gateway.uploads` (bounded while they stream
in; served as attachments no browser renders in our origin).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from gateway.customer_vault_models import Contract
from gateway.dependencies import AppSettings, RequestId
from gateway.for_caller import CustomerVaultForCaller
from gateway.idempotency import RESPONSES as CREATE_RESPONSES
from gateway.idempotency import replayed_by_reading
from gateway.rest import Page
from gateway.uploads import FALLBACK_CONTENT_TYPE, UPLOAD_BODY, attachment, read_upload

router = APIRouter(tags=["contracts"])


class ContractList(Page):
    """A customer's contracts (not paged)."""

    items: list[Contract]


@router.post(
    "/v1/customers/{customer_id}/contracts",
    status_code=201,
    summary="Upload a contract document (multipart, field `file`)",
    openapi_extra={"requestBody": UPLOAD_BODY},
    dependencies=[replayed_by_reading("/v1/customers/{customer_id}/contracts", listed=True)],
    responses={
        **CREATE_RESPONSES,
        413: {"description": "The document is larger than allowed (payload_too_large)"},
        410: {"description": "The customer was erased (erased)"},
    },
)
async def upload_contract(
    customer_id: str, request: Request, vault: CustomerVaultForCaller, settings: AppSettings
) -> Contract:
    upload, content = await read_upload(request, settings.max_contract_bytes)
    result = await vault.call(
        vault.stub.UploadContract,
        pb.UploadContractRequest(
            customer_id=customer_id,
            filename=upload.filename or "",
            content_type=upload.content_type or FALLBACK_CONTENT_TYPE,
            content=content,
        ),
    )
    return Contract.of(result.contract)


@router.get("/v1/customers/{customer_id}/contracts", summary="A customer's contracts")
async def list_contracts(customer_id: str, vault: CustomerVaultForCaller) -> ContractList:
    result = await vault.call(
        vault.stub.ListContracts, pb.ListContractsRequest(customer_id=customer_id)
    )
    return ContractList(items=[Contract.of(contract) for contract in result.contracts])


@router.get(
    "/v1/contracts/{contract_id}/content",
    summary="Download a contract document (decrypted; audited)",
    response_class=Response,
    responses={
        200: {
            "description": "The document, as an attachment with its stored content type",
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        },
        410: {"description": "The customer was erased (erased)"},
    },
)
async def download_contract(
    contract_id: str, vault: CustomerVaultForCaller, request_id: RequestId
) -> Response:
    result = await vault.call(
        vault.stub.DownloadContract,
        pb.DownloadContractRequest(id=contract_id, request_id=request_id),
    )
    return attachment(result.content, result.contract.content_type, result.contract.filename)
