"""Subcontractors' signed DPAs: upload (bounded), list, download — stored encrypted in
customer-vault; the organisation refers to one with ``dpa_document_id``. Admins only."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from gateway.customer_vault_models import DpaDocument
from gateway.dependencies import AppSettings
from gateway.for_caller import CustomerVaultForCaller
from gateway.idempotency import RESPONSES as CREATE_RESPONSES
from gateway.idempotency import replayed_by_reading
from gateway.rest import Page
from gateway.uploads import UPLOAD_BODY, attachment, read_upload

router = APIRouter(tags=["organizations"])


class DpaDocumentList(Page):
    items: list[DpaDocument]


@router.post(
    "/v1/organizations/{organization_id}/dpa-documents",
    status_code=201,
    summary="Upload a subcontractor's signed DPA (multipart, field `file`)",
    openapi_extra={"requestBody": UPLOAD_BODY},
    dependencies=[
        replayed_by_reading("/v1/organizations/{organization_id}/dpa-documents", listed=True)
    ],
    responses={
        **CREATE_RESPONSES,
        413: {"description": "The document is larger than allowed (payload_too_large)"},
    },
)
async def upload_dpa_document(
    organization_id: str, request: Request, vault: CustomerVaultForCaller, settings: AppSettings
) -> DpaDocument:
    upload, content = await read_upload(request, settings.max_contract_bytes)
    result = await vault.call(
        vault.stub.UploadDpaDocument,
        pb.UploadDpaDocumentRequest(
            organization_id=organization_id,
            filename=upload.filename or "",
            content_type=upload.content_type or "",
            content=content,
        ),
    )
    return DpaDocument.of(result.document)


@router.get(
    "/v1/organizations/{organization_id}/dpa-documents",
    summary="A subcontractor's DPA documents",
)
async def list_dpa_documents(
    organization_id: str, vault: CustomerVaultForCaller
) -> DpaDocumentList:
    result = await vault.call(
        vault.stub.ListDpaDocuments, pb.ListDpaDocumentsRequest(organization_id=organization_id)
    )
    return DpaDocumentList(items=[DpaDocument.of(d) for d in result.documents])


@router.get(
    "/v1/dpa-documents/{document_id}/content",
    summary="Download a DPA document (decrypted; audited)",
    response_class=Response,
    responses={
        200: {
            "description": "The document, as an attachment with its stored content type",
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def download_dpa_document(document_id: str, vault: CustomerVaultForCaller) -> Response:
    result = await vault.call(
        vault.stub.DownloadDpaDocument, pb.DownloadDpaDocumentRequest(id=document_id)
    )
    return attachment(result.content, result.document.content_type, result.document.filename)
