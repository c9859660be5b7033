"""Use-case results → protobuf messages, shared by both halves of the servicer."""

from __future__ import annotations

from datetime import datetime

from customer_vault.access.grants import is_active
from customer_vault.audit import Verification
from customer_vault.models import AuditRecord, Grant
from customer_vault.records.contracts import ContractView
from customer_vault.records.customers import CustomerView
from customer_vault.records.dpa_documents import DpaDocumentView
from customer_vault.records.site_secrets import SecretInfo
from customer_vault.records.sites import SiteView
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault_platform.errors import InvalidArgument
from fieldvault_platform.etags import etag_of
from fieldvault_platform.timestamps import to_timestamp

SECRET_KINDS = {
    "door_code": pb.SECRET_KIND_DOOR_CODE,
    "alarm_code": pb.SECRET_KIND_ALARM_CODE,
    "key_safe_code": pb.SECRET_KIND_KEY_SAFE_CODE,
}
_KIND_NAMES: dict[int, str] = {int(number): name for name, number in SECRET_KINDS.items()}


def kind_name(kind: int) -> str:
    try:
        return _KIND_NAMES[kind]
    except KeyError:
        raise InvalidArgument(
            "kind must be SECRET_KIND_DOOR_CODE, SECRET_KIND_ALARM_CODE "
            "or SECRET_KIND_KEY_SAFE_CODE"
        ) from None


def customer_message(view: CustomerView) -> pb.Customer:
    row = view.row
    return pb.Customer(
        id=row.id,
        tenant_id=row.tenant_id,
        area_id=row.area_id or "",
        name=view.name,
        email=view.email,
        phone=view.phone,
        address=view.address,
        notes=view.notes,
        create_time=to_timestamp(row.created_at),
        update_time=to_timestamp(row.updated_at),
        etag=etag_of(row.version),
    )


def site_message(view: SiteView) -> pb.Site:
    row = view.row
    return pb.Site(
        id=row.id,
        tenant_id=row.tenant_id,
        customer_id=row.customer_id,
        area_id=row.area_id,
        name=view.name,
        address=view.address,
        access_instructions=view.access_instructions,
        create_time=to_timestamp(row.created_at),
        update_time=to_timestamp(row.updated_at),
        etag=etag_of(row.version),
    )


def secret_message(info: SecretInfo) -> pb.SecretMetadata:
    return pb.SecretMetadata(
        kind=SECRET_KINDS[info.kind],
        version=info.version,
        update_time=to_timestamp(info.written_at),
        updated_by=info.written_by,
    )


def contract_message(view: ContractView) -> pb.Contract:
    row = view.row
    return pb.Contract(
        id=row.id,
        customer_id=row.customer_id,
        filename=view.filename,
        content_type=row.content_type,
        # An erased customer's contracts keep no size or hash (they are never listed then).
        size=row.size or 0,
        sha256=row.sha256 or "",
        create_time=to_timestamp(row.created_at),
        uploaded_by=row.uploaded_by,
    )


def grant_message(grant: Grant, now: datetime) -> pb.Grant:
    return pb.Grant(
        id=grant.id,
        tenant_id=grant.tenant_id,
        site_id=grant.site_id,
        user_id=grant.user_id or "",
        organization_id=grant.organization_id,
        subcontractor=grant.subcontractor,
        fields=list(grant.fields),
        work_order_id=grant.work_order_id,
        valid_from=to_timestamp(grant.valid_from),
        valid_until=to_timestamp(grant.valid_until),
        create_time=to_timestamp(grant.created_at),
        granted_by_service=grant.granted_by,
        granted_on_behalf_of=grant.on_behalf_of or "",
        revoke_time=to_timestamp(grant.revoked_at),
        revoke_reason=grant.revoke_reason or "",
        active=is_active(grant, now),
    )


def audit_event_message(record: AuditRecord) -> pb.AuditEvent:
    return pb.AuditEvent(
        id=record.id,
        sequence=record.sequence,
        tenant_id=record.tenant_id,
        occur_time=to_timestamp(record.occurred_at),
        actor_kind=record.actor_kind,
        actor_id=record.actor_id,
        actor_organization_id=record.actor_organization_id or "",
        on_behalf_of=record.on_behalf_of or "",
        action=record.action,
        resource_type=record.resource_type,
        resource_id=record.resource_id or "",
        customer_id=record.customer_id or "",
        site_id=record.site_id or "",
        fields=list(record.fields),
        purpose=record.purpose or "",
        outcome=record.outcome,
        reason=record.reason or "",
        request_id=record.request_id or "",
        trace_id=record.trace_id or "",
        break_glass=record.break_glass,
        previous_hash=record.previous_hash,
        hash=record.hash,
    )


def verification_message(result: Verification) -> pb.VerifyAuditTrailResponse:
    return pb.VerifyAuditTrailResponse(
        ok=result.ok,
        checked=result.checked,
        first_broken_event_id=result.first_broken_id or "",
        problem=result.problem or "",
    )


def dpa_document_message(view: DpaDocumentView) -> pb.DpaDocument:
    row = view.row
    return pb.DpaDocument(
        id=row.id,
        organization_id=row.organization_id,
        filename=view.filename,
        content_type=row.content_type,
        # An erased customer's contracts keep no size or hash (they are never listed then).
        size=row.size or 0,
        sha256=row.sha256 or "",
        create_time=to_timestamp(row.created_at),
        uploaded_by=row.uploaded_by,
    )
