"""Rows → protobuf messages, shared by both halves of the servicer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from fieldvault.identity.v1 import identity_pb2 as pb
from fieldvault_platform.etags import etag_of
from fieldvault_platform.retention import MINIMUM_DAYS
from fieldvault_platform.timestamps import to_timestamp
from identity.models import ApiClient, Area, AuditRecord, Organization, Tenant, User

if TYPE_CHECKING:
    from identity.directory.retention import TenantRetention

_USER_STATUS = {
    "invited": pb.USER_STATUS_INVITED,
    "active": pb.USER_STATUS_ACTIVE,
    "deactivated": pb.USER_STATUS_DEACTIVATED,
}
_ORGANIZATION_KIND = {
    "own": pb.ORGANIZATION_KIND_OWN,
    "subcontractor": pb.ORGANIZATION_KIND_SUBCONTRACTOR,
}


def iso_date(day: date | None) -> str:
    return day.isoformat() if day is not None else ""


def dpa_active(organization: Organization, *, today: date | None = None) -> bool:
    """Own organisation: always. Subcontractor: signed, and not past its expiry (UTC)."""
    if organization.kind == "own":
        return True
    today = today or datetime.now(UTC).date()
    signed = organization.dpa_signed_on
    expires = organization.dpa_expires_on
    return signed is not None and signed <= today and (expires is None or today <= expires)


def tenant_message(tenant: Tenant) -> pb.Tenant:
    return pb.Tenant(
        id=tenant.id,
        slug=tenant.slug,
        name=tenant.name,
        mfa_required_roles=list(tenant.mfa_required_roles),
        break_glass_step_up_required=tenant.break_glass_step_up_required,
        create_time=to_timestamp(tenant.created_at),
        etag=etag_of(tenant.version),
    )


def organization_message(organization: Organization) -> pb.Organization:
    return pb.Organization(
        id=organization.id,
        tenant_id=organization.tenant_id,
        name=organization.name,
        kind=_ORGANIZATION_KIND[organization.kind],
        dpa_signed_on=iso_date(organization.dpa_signed_on),
        dpa_expires_on=iso_date(organization.dpa_expires_on),
        dpa_document_id=organization.dpa_document_id or "",
        dpa_active=dpa_active(organization),
        create_time=to_timestamp(organization.created_at),
        update_time=to_timestamp(organization.updated_at),
        etag=etag_of(organization.version),
    )


def area_message(area: Area) -> pb.Area:
    return pb.Area(
        id=area.id,
        tenant_id=area.tenant_id,
        name=area.name,
        create_time=to_timestamp(area.created_at),
    )


def user_message(user: User, area_ids: Iterable[str]) -> pb.User:
    return pb.User(
        id=user.id,
        tenant_id=user.tenant_id,
        email=user.email,
        name=user.name,
        roles=list(user.roles),
        organization_id=user.organization_id,
        area_ids=sorted(area_ids),
        status=_USER_STATUS[user.status],
        mfa_enabled=user.totp_confirmed,
        create_time=to_timestamp(user.created_at),
        update_time=to_timestamp(user.updated_at),
        etag=etag_of(user.version),
    )


def api_client_message(client: ApiClient) -> pb.ApiClient:
    return pb.ApiClient(
        id=client.id,
        tenant_id=client.tenant_id,
        client_id=client.client_id,
        name=client.name,
        scopes=sorted(client.scopes),
        create_time=to_timestamp(client.created_at),
    )


def audit_record_message(record: AuditRecord) -> pb.AuditRecord:
    return pb.AuditRecord(
        id=record.id,
        tenant_id=record.tenant_id or "",
        occur_time=to_timestamp(record.occurred_at),
        actor=record.actor,
        action=record.action,
        outcome=record.outcome,
        target_id=record.target_id or "",
        source_address=record.source_address or "",
        detail=record.detail or "",
    )


def retention_policy_message(retention: TenantRetention) -> pb.RetentionPolicy:
    message = pb.RetentionPolicy(
        days=dict(retention.policy.days),
        minimum_days=dict(MINIMUM_DAYS),
        defaults=retention.version == 0,
        etag=etag_of(retention.version),
    )
    if retention.updated_at is not None:
        message.update_time.CopyFrom(to_timestamp(retention.updated_at))
    return message
