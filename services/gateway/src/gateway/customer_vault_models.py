"""REST shapes of customer_vault's resources (docs/openapi.json) and their conversion from protobuf.

Timestamps are RFC 3339 UTC; one the service left unset is ``null``. Optional
text the service holds as an empty string is ``null`` too, so "not given" reads
the same everywhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault_platform.timestamps import from_timestamp
from gateway.from_proto import ProtoModel

SecretKindName = Literal["door_code", "alarm_code", "key_safe_code"]

_KIND_BY_NAME: dict[SecretKindName, pb.SecretKind] = {
    "door_code": pb.SECRET_KIND_DOOR_CODE,
    "alarm_code": pb.SECRET_KIND_ALARM_CODE,
    "key_safe_code": pb.SECRET_KIND_KEY_SAFE_CODE,
}
_NAME_BY_KIND: dict[pb.SecretKind, SecretKindName] = {
    kind: name for name, kind in _KIND_BY_NAME.items()
}


def secret_kind(name: SecretKindName) -> pb.SecretKind:
    return _KIND_BY_NAME[name]


def secret_kind_name(kind: pb.SecretKind) -> SecretKindName:
    # A kind this gateway does not know is a contract mismatch, not a caller's
    # mistake: it fails loudly (500) rather than being shown under a wrong name.
    return _NAME_BY_KIND[kind]


class Customer(ProtoModel):
    id: str
    tenant_id: str
    area_id: str | None
    name: str
    email: str | None
    phone: str | None
    address: str | None
    notes: str | None
    created_at: datetime | None
    updated_at: datetime | None
    etag: str

    proto_names = {"created_at": "create_time", "updated_at": "update_time"}

    @classmethod
    def of(cls, customer: pb.Customer) -> Customer:  # type: ignore[override]
        return cls(
            id=customer.id,
            tenant_id=customer.tenant_id,
            area_id=customer.area_id or None,
            name=customer.name,
            email=customer.email or None,
            phone=customer.phone or None,
            address=customer.address or None,
            notes=customer.notes or None,
            created_at=from_timestamp(customer, "create_time"),
            updated_at=from_timestamp(customer, "update_time"),
            etag=customer.etag,
        )


class Site(ProtoModel):
    id: str
    tenant_id: str
    customer_id: str
    area_id: str
    name: str
    address: str
    access_instructions: str | None
    created_at: datetime | None
    updated_at: datetime | None
    etag: str

    proto_names = {"created_at": "create_time", "updated_at": "update_time"}

    @classmethod
    def of(cls, site: pb.Site) -> Site:  # type: ignore[override]
        return cls(
            id=site.id,
            tenant_id=site.tenant_id,
            customer_id=site.customer_id,
            area_id=site.area_id,
            name=site.name,
            address=site.address,
            access_instructions=site.access_instructions or None,
            created_at=from_timestamp(site, "create_time"),
            updated_at=from_timestamp(site, "update_time"),
            etag=site.etag,
        )


class SecretMetadata(ProtoModel):
    """A secret's kind and history; there is deliberately no ``value`` here."""

    kind: SecretKindName
    version: int
    updated_at: datetime | None
    updated_by: str

    proto_names = {"updated_at": "update_time"}

    @classmethod
    def of(cls, secret: pb.SecretMetadata) -> SecretMetadata:  # type: ignore[override]
        return cls(
            kind=secret_kind_name(secret.kind),
            version=secret.version,
            updated_at=from_timestamp(secret, "update_time"),
            updated_by=secret.updated_by,
        )


class RevealedSecret(ProtoModel):
    kind: SecretKindName
    #: Out of ``repr``: the value must not reach a log line through a traceback.
    value: str = Field(repr=False)
    #: The audit record of this reveal, written before the value left the vault.
    audit_event_id: str
    #: The client hides the value after this many seconds.
    hide_after_seconds: int

    @classmethod
    def of(cls, revealed: pb.RevealSecretResponse) -> RevealedSecret:  # type: ignore[override]
        return cls(
            kind=secret_kind_name(revealed.kind),
            value=revealed.value,
            audit_event_id=revealed.audit_event_id,
            hide_after_seconds=revealed.hide_after_seconds,
        )


class Contract(ProtoModel):
    id: str
    customer_id: str
    filename: str
    content_type: str
    size: int
    #: Hex SHA-256 of the document as uploaded.
    sha256: str
    created_at: datetime | None
    uploaded_by: str

    proto_names = {"created_at": "create_time"}

    @classmethod
    def of(cls, contract: pb.Contract) -> Contract:  # type: ignore[override]
        return cls(
            id=contract.id,
            customer_id=contract.customer_id,
            filename=contract.filename,
            content_type=contract.content_type,
            size=contract.size,
            sha256=contract.sha256,
            created_at=from_timestamp(contract, "create_time"),
            uploaded_by=contract.uploaded_by,
        )


class DpaDocument(ProtoModel):
    id: str
    organization_id: str
    filename: str
    content_type: str
    size: int
    #: Hex SHA-256 of the document as uploaded.
    sha256: str
    created_at: datetime | None
    uploaded_by: str

    proto_names = {"created_at": "create_time"}

    @classmethod
    def of(cls, document: pb.DpaDocument) -> DpaDocument:  # type: ignore[override]
        return cls(
            id=document.id,
            organization_id=document.organization_id,
            filename=document.filename,
            content_type=document.content_type,
            size=document.size,
            sha256=document.sha256,
            created_at=from_timestamp(document, "create_time"),
            uploaded_by=document.uploaded_by,
        )


class Grant(ProtoModel):
    id: str
    tenant_id: str
    site_id: str
    #: The user granted access; null when the organisation as a whole is.
    user_id: str | None
    organization_id: str
    subcontractor: bool
    #: Secret kinds and ``contracts``.
    fields: list[str]
    work_order_id: str
    valid_from: datetime | None
    valid_until: datetime | None
    created_at: datetime | None
    granted_by_service: str
    granted_on_behalf_of: str | None
    revoked_at: datetime | None
    revoke_reason: str | None
    active: bool

    proto_names = {"created_at": "create_time", "revoked_at": "revoke_time"}

    @classmethod
    def of(cls, grant: pb.Grant) -> Grant:  # type: ignore[override]
        return cls(
            id=grant.id,
            tenant_id=grant.tenant_id,
            site_id=grant.site_id,
            user_id=grant.user_id or None,
            organization_id=grant.organization_id,
            subcontractor=grant.subcontractor,
            fields=list(grant.fields),
            work_order_id=grant.work_order_id,
            valid_from=from_timestamp(grant, "valid_from"),
            valid_until=from_timestamp(grant, "valid_until"),
            created_at=from_timestamp(grant, "create_time"),
            granted_by_service=grant.granted_by_service,
            granted_on_behalf_of=grant.granted_on_behalf_of or None,
            revoked_at=from_timestamp(grant, "revoke_time"),
            revoke_reason=grant.revoke_reason or None,
            active=grant.active,
        )


class AuditEvent(ProtoModel):
    id: str
    #: Position in the tenant's hash chain, from 1.
    sequence: int
    tenant_id: str
    occurred_at: datetime | None
    actor_kind: str
    actor_id: str
    actor_organization_id: str | None
    on_behalf_of: str | None
    action: str
    resource_type: str
    resource_id: str
    customer_id: str | None
    site_id: str | None
    fields: list[str]
    #: A work order id, or ``break_glass``.
    purpose: str | None
    outcome: str
    reason: str | None
    request_id: str | None
    trace_id: str | None
    break_glass: bool
    previous_hash: str
    hash: str

    proto_names = {"occurred_at": "occur_time"}

    @classmethod
    def of(cls, event: pb.AuditEvent) -> AuditEvent:  # type: ignore[override]
        return cls(
            id=event.id,
            sequence=event.sequence,
            tenant_id=event.tenant_id,
            occurred_at=from_timestamp(event, "occur_time"),
            actor_kind=event.actor_kind,
            actor_id=event.actor_id,
            actor_organization_id=event.actor_organization_id or None,
            on_behalf_of=event.on_behalf_of or None,
            action=event.action,
            resource_type=event.resource_type,
            resource_id=event.resource_id,
            customer_id=event.customer_id or None,
            site_id=event.site_id or None,
            fields=list(event.fields),
            purpose=event.purpose or None,
            outcome=event.outcome,
            reason=event.reason or None,
            request_id=event.request_id or None,
            trace_id=event.trace_id or None,
            break_glass=event.break_glass,
            previous_hash=event.previous_hash,
            hash=event.hash,
        )


class AuditVerification(ProtoModel):
    ok: bool
    #: Records checked.
    checked: int
    #: The first record whose hash or link does not hold; null when ok.
    first_broken_event_id: str | None
    #: ``hash_mismatch``, ``chain_broken`` or ``sequence_gap``; null when ok.
    problem: str | None

    @classmethod
    def of(cls, result: pb.VerifyAuditTrailResponse) -> AuditVerification:  # type: ignore[override]
        return cls(
            ok=result.ok,
            checked=result.checked,
            first_broken_event_id=result.first_broken_event_id or None,
            problem=result.problem or None,
        )


class ErasedCustomer(ProtoModel):
    customer_id: str
    erased_at: datetime | None

    proto_names = {"erased_at": "erase_time"}

    @classmethod
    def of(cls, result: pb.EraseCustomerResponse) -> ErasedCustomer:  # type: ignore[override]
        return cls(customer_id=result.customer_id, erased_at=from_timestamp(result, "erase_time"))


# --- GDPR export document (GET /v1/customers/{id}/export) ------------------------------


class ExportedCode(BaseModel):
    """One version of a code. ``value`` is present only in an export the DPO asked values
    for (``include_secret_values=true`` with a ``reason``)."""

    kind: SecretKindName
    version: int
    written_by: str
    written_at: datetime | None
    value: str | None = None


class ExportedSite(BaseModel):
    id: str
    area_id: str | None
    name: str
    address: str
    access_instructions: str
    created_at: datetime | None
    secrets: list[ExportedCode]


class ExportedPerson(BaseModel):
    id: str
    area_id: str | None
    name: str
    email: str
    phone: str
    address: str
    notes: str
    created_at: datetime | None
    updated_at: datetime | None


class ExportedContract(BaseModel):
    id: str
    filename: str
    content_type: str
    size: int | None
    sha256: str | None
    uploaded_by: str
    created_at: datetime | None


class ExportedGrant(BaseModel):
    id: str
    site_id: str
    user_id: str | None
    organization_id: str
    fields: list[str]
    work_order_id: str
    valid_from: datetime | None
    valid_until: datetime | None
    revoked_at: datetime | None


class ExportedAccess(BaseModel):
    """One audit record about the customer: who did what, when, why."""

    id: str
    occurred_at: datetime | None
    actor_kind: str
    actor_id: str
    actor_organization_id: str | None
    on_behalf_of: str | None
    action: str
    resource_type: str
    resource_id: str | None
    site_id: str | None
    fields: list[str]
    purpose: str | None
    outcome: str
    reason: str | None


class CustomerExport(BaseModel):
    """Everything held about a customer (GDPR Art. 15/20), including who accessed it."""

    format: str
    exported_at: datetime | None
    tenant_id: str
    #: False unless the DPO asked for the codes' values, with a reason.
    secret_values_included: bool
    customer: ExportedPerson
    sites: list[ExportedSite]
    contracts: list[ExportedContract]
    grants: list[ExportedGrant]
    access_history: list[ExportedAccess]

    def carries_code_values(self) -> bool:
        return any(code.value is not None for site in self.sites for code in site.secrets)
