"""REST shapes of customer_vault's resources (docs/openapi.json), read from protobuf by from_proto.

Timestamps are RFC 3339 UTC; one the service left unset is ``null``. Optional
text the service holds as an empty string is ``null`` too, so "not given" reads
the same everywhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
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


class SecretMetadata(ProtoModel):
    """A secret's kind and history; there is deliberately no ``value`` here."""

    kind: SecretKindName
    version: int
    updated_at: datetime | None
    updated_by: str

    proto_names = {"updated_at": "update_time"}


class RevealedSecret(ProtoModel):
    kind: SecretKindName
    #: Out of ``repr``: the value must not reach a log line through a traceback.
    value: str = Field(repr=False)
    #: The audit record of this reveal, written before the value left the vault.
    audit_event_id: str
    #: The client hides the value after this many seconds.
    hide_after_seconds: int


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


class AuditVerification(ProtoModel):
    ok: bool
    #: Records checked.
    checked: int
    #: The first record whose hash or link does not hold; null when ok.
    first_broken_event_id: str | None
    #: ``hash_mismatch``, ``chain_broken`` or ``sequence_gap``; null when ok.
    problem: str | None


class ErasedCustomer(ProtoModel):
    customer_id: str
    erased_at: datetime | None

    proto_names = {"erased_at": "erase_time"}


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
