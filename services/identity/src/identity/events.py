"""Identity's events: subjects and payloads, written to the outbox (docs/architecture.md#events).

Each function adds one event to the caller's transaction; the relay publishes
it after the commit. Payloads carry ids and facts only — never a token, an
invitation link or a password (see ``identity_events.proto``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault.identity.v1 import identity_events_pb2 as pb
from fieldvault_platform.auth.contract import (
    API_CLIENT_REVOKED_EVENT,
    IDENTITY_SERVICE,
    SESSION_REVOKED_EVENT,
    USER_DEACTIVATED_EVENT,
)
from fieldvault_platform.events import publish
from fieldvault_platform.timestamps import to_timestamp

TENANT_CREATED = "tenant_created"
USER_INVITED = "user_invited"
ORGANIZATION_DPA_UPDATED = "organization_dpa_updated"
ORGANIZATION_DPA_LAPSED = "organization_dpa_lapsed"
USER_ORGANIZATION_CHANGED = "user_organization_changed"
USER_AREAS_REMOVED = "user_areas_removed"
TENANT_RETENTION_POLICY_CHANGED = "tenant_retention_policy_changed"
INSTRUCTIONS_PUBLISHED = "instructions_published"
INSTRUCTIONS_ACKNOWLEDGED = "instructions_acknowledged"


def _iso(day: date | None) -> str:
    return day.isoformat() if day is not None else ""


def _new_id() -> str:
    return uuid.uuid4().hex


def tenant_created(session: AsyncSession, *, tenant_id: str, slug: str, at: datetime) -> str:
    message = pb.TenantCreated(
        event_id=_new_id(), tenant_id=tenant_id, slug=slug, occurred_at=to_timestamp(at)
    )
    return publish(
        session, message, tenant_id=tenant_id, service=IDENTITY_SERVICE, event=TENANT_CREATED
    )


def user_invited(
    session: AsyncSession,
    *,
    tenant_id: str,
    user_id: str,
    invitation_id: str,
    expires_at: datetime,
    at: datetime,
) -> str:
    message = pb.UserInvited(
        event_id=_new_id(),
        tenant_id=tenant_id,
        user_id=user_id,
        invitation_id=invitation_id,
        expire_time=to_timestamp(expires_at),
        occurred_at=to_timestamp(at),
    )
    return publish(
        session, message, tenant_id=tenant_id, service=IDENTITY_SERVICE, event=USER_INVITED
    )


def user_deactivated(session: AsyncSession, *, tenant_id: str, user_id: str, at: datetime) -> str:
    message = pb.UserDeactivated(
        event_id=_new_id(), tenant_id=tenant_id, user_id=user_id, occurred_at=to_timestamp(at)
    )
    return publish(
        session,
        message,
        tenant_id=tenant_id,
        service=IDENTITY_SERVICE,
        event=USER_DEACTIVATED_EVENT,
    )


def user_organization_changed(
    session: AsyncSession,
    *,
    tenant_id: str,
    user_id: str,
    previous_organization_id: str,
    organization_id: str,
    at: datetime,
) -> str:
    message = pb.UserOrganizationChanged(
        event_id=_new_id(),
        tenant_id=tenant_id,
        user_id=user_id,
        previous_organization_id=previous_organization_id,
        organization_id=organization_id,
        occurred_at=to_timestamp(at),
    )
    return publish(
        session,
        message,
        tenant_id=tenant_id,
        service=IDENTITY_SERVICE,
        event=USER_ORGANIZATION_CHANGED,
    )


def user_areas_removed(
    session: AsyncSession,
    *,
    tenant_id: str,
    user_id: str,
    area_ids: Sequence[str],
    at: datetime,
) -> str:
    message = pb.UserAreasRemoved(
        event_id=_new_id(),
        tenant_id=tenant_id,
        user_id=user_id,
        area_ids=list(area_ids),
        occurred_at=to_timestamp(at),
    )
    return publish(
        session, message, tenant_id=tenant_id, service=IDENTITY_SERVICE, event=USER_AREAS_REMOVED
    )


def session_revoked(
    session: AsyncSession,
    *,
    tenant_id: str,
    user_id: str,
    session_id: str,
    reason: pb.SessionRevokedReason,
    at: datetime,
) -> str:
    message = pb.SessionRevoked(
        event_id=_new_id(),
        tenant_id=tenant_id,
        user_id=user_id,
        session_id=session_id,
        reason=reason,
        occurred_at=to_timestamp(at),
    )
    return publish(
        session, message, tenant_id=tenant_id, service=IDENTITY_SERVICE, event=SESSION_REVOKED_EVENT
    )


def api_client_revoked(
    session: AsyncSession, *, tenant_id: str, api_client_id: str, client_id: str, at: datetime
) -> str:
    message = pb.ApiClientRevoked(
        event_id=_new_id(),
        tenant_id=tenant_id,
        api_client_id=api_client_id,
        client_id=client_id,
        occurred_at=to_timestamp(at),
    )
    return publish(
        session,
        message,
        tenant_id=tenant_id,
        service=IDENTITY_SERVICE,
        event=API_CLIENT_REVOKED_EVENT,
    )


def organization_dpa_updated(
    session: AsyncSession,
    *,
    tenant_id: str,
    organization_id: str,
    signed_on: date | None,
    expires_on: date | None,
    active: bool,
    at: datetime,
) -> str:
    message = pb.OrganizationDpaUpdated(
        event_id=_new_id(),
        tenant_id=tenant_id,
        organization_id=organization_id,
        dpa_signed_on=_iso(signed_on),
        dpa_expires_on=_iso(expires_on),
        dpa_active=active,
        occurred_at=to_timestamp(at),
    )
    return publish(
        session,
        message,
        tenant_id=tenant_id,
        service=IDENTITY_SERVICE,
        event=ORGANIZATION_DPA_UPDATED,
    )


def organization_dpa_lapsed(
    session: AsyncSession,
    *,
    tenant_id: str,
    organization_id: str,
    expires_on: date | None,
    at: datetime,
) -> str:
    message = pb.OrganizationDpaLapsed(
        event_id=_new_id(),
        tenant_id=tenant_id,
        organization_id=organization_id,
        dpa_expires_on=_iso(expires_on),
        occurred_at=to_timestamp(at),
    )
    return publish(
        session,
        message,
        tenant_id=tenant_id,
        service=IDENTITY_SERVICE,
        event=ORGANIZATION_DPA_LAPSED,
    )


def tenant_retention_policy_changed(
    session: AsyncSession,
    *,
    tenant_id: str,
    days: Mapping[str, int],
    version: int,
    at: datetime,
) -> str:
    message = pb.TenantRetentionPolicyChanged(
        event_id=_new_id(),
        tenant_id=tenant_id,
        days=dict(days),
        version=version,
        occurred_at=to_timestamp(at),
    )
    return publish(
        session,
        message,
        tenant_id=tenant_id,
        service=IDENTITY_SERVICE,
        event=TENANT_RETENTION_POLICY_CHANGED,
    )


def instructions_published(
    session: AsyncSession,
    *,
    tenant_id: str,
    version: int,
    effective_from: datetime,
    at: datetime,
) -> str:
    message = pb.InstructionsPublished(
        event_id=_new_id(),
        tenant_id=tenant_id,
        version=version,
        effective_time=to_timestamp(effective_from),
        occurred_at=to_timestamp(at),
    )
    return publish(
        session,
        message,
        tenant_id=tenant_id,
        service=IDENTITY_SERVICE,
        event=INSTRUCTIONS_PUBLISHED,
    )


def instructions_acknowledged(
    session: AsyncSession, *, tenant_id: str, user_id: str, version: int, at: datetime
) -> str:
    message = pb.InstructionsAcknowledged(
        event_id=_new_id(),
        tenant_id=tenant_id,
        user_id=user_id,
        version=version,
        occurred_at=to_timestamp(at),
    )
    return publish(
        session,
        message,
        tenant_id=tenant_id,
        service=IDENTITY_SERVICE,
        event=INSTRUCTIONS_ACKNOWLEDGED,
    )
