"""Organisations: the own company and subcontractors with their data-processing agreements.

"No DPA, no access": whenever a subcontractor's DPA dates are set, changed or
cleared, ``organization_dpa_updated`` says so; when a change makes an active
DPA inactive, ``organization_dpa_lapsed`` tells customer-vault to revoke the
organisation's grants at once. Expiry by the calendar is announced by
:mod:`identity.directory.dpa_watch`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.errors import AlreadyExists, InvalidArgument, NotFound
from fieldvault_platform.etags import check_etag
from fieldvault_platform.paging import Keyset
from identity import audit, events
from identity.directory.access import Caller, flush_unique
from identity.directory.people import validate_name
from identity.messages import dpa_active
from identity.models import Organization

BY_ID = Keyset(Organization.id)
ORGANIZATION_FIELDS = frozenset({"name", "dpa_signed_on", "dpa_expires_on", "dpa_document_id"})


def parse_date(value: str, *, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(f"{field} must be a date as YYYY-MM-DD") from None


def _check_dates(signed: date | None, expires: date | None) -> None:
    if expires is not None and signed is None:
        raise InvalidArgument("dpa_expires_on needs dpa_signed_on")
    if signed is not None and expires is not None and expires < signed:
        raise InvalidArgument("dpa_expires_on must not be before dpa_signed_on")


def _name_taken() -> AlreadyExists:
    return AlreadyExists("an organisation with this name exists", code="organization_exists")


async def _name_free(session: AsyncSession, tenant_id: str, name: str, own_id: str = "") -> None:
    clash = await session.scalar(
        select(Organization.id).where(
            Organization.tenant_id == tenant_id,
            Organization.name == name,
            Organization.id != own_id,
        )
    )
    if clash is not None:
        raise _name_taken()


def _announce(
    session: AsyncSession, organization: Organization, *, was_active: bool, now: datetime
) -> None:
    active = dpa_active(organization, today=now.date())
    events.organization_dpa_updated(
        session,
        tenant_id=organization.tenant_id,
        organization_id=organization.id,
        signed_on=organization.dpa_signed_on,
        expires_on=organization.dpa_expires_on,
        active=active,
        at=now,
    )
    if was_active and not active:
        events.organization_dpa_lapsed(
            session,
            tenant_id=organization.tenant_id,
            organization_id=organization.id,
            expires_on=organization.dpa_expires_on,
            at=now,
        )
        organization.dpa_lapse_announced_for = organization.dpa_expires_on


async def create_organization(
    session: AsyncSession,
    caller: Caller,
    *,
    name: str,
    subcontractor: bool,
    dpa_signed_on: str,
    dpa_expires_on: str,
    now: datetime,
) -> Organization:
    if not subcontractor:
        raise InvalidArgument(
            "only subcontractor organisations can be created; the own organisation exists already"
        )
    name = validate_name(name, field="name")
    signed = parse_date(dpa_signed_on, field="dpa_signed_on")
    expires = parse_date(dpa_expires_on, field="dpa_expires_on")
    _check_dates(signed, expires)
    await _name_free(session, caller.tenant_id, name)
    organization = Organization(
        id=str(uuid.uuid4()),
        tenant_id=caller.tenant_id,
        name=name,
        kind="subcontractor",
        dpa_signed_on=signed,
        dpa_expires_on=expires,
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(organization)
    await flush_unique(session, _name_taken())
    if signed is not None:
        _announce(session, organization, was_active=False, now=now)
    audit.record(
        session,
        audit.AuditEntry(
            tenant_id=caller.tenant_id,
            actor=caller.name,
            action="organization.create",
            target_id=organization.id,
        ),
        at=now,
    )
    return organization


async def get_organization(
    session: AsyncSession, caller: Caller, *, organization_id: str
) -> Organization:
    organization = await session.get(Organization, organization_id)
    if organization is None or organization.tenant_id != caller.tenant_id:
        raise NotFound("organisation not found")
    return organization


async def list_organizations(
    session: AsyncSession, caller: Caller, *, requested_size: int, page_token: str
) -> tuple[list[Organization], str]:
    request = BY_ID.request(requested_size, page_token)
    query = select(Organization).where(Organization.tenant_id == caller.tenant_id)
    return await request.fetch(session, query)


def _document_id(value: str) -> str | None:
    """A customer-vault document id (opaque; identity keeps the reference only)."""
    value = value.strip()
    if len(value) > 36 or not all(char.isalnum() or char == "-" for char in value):
        raise InvalidArgument("dpa_document_id must be a document id from customer-vault")
    return value or None


async def update_organization(
    session: AsyncSession,
    caller: Caller,
    *,
    organization_id: str,
    mask: Sequence[str],
    name: str,
    dpa_signed_on: str,
    dpa_expires_on: str,
    etag: str,
    now: datetime,
    dpa_document_id: str = "",
) -> Organization:
    unknown = sorted(set(mask) - ORGANIZATION_FIELDS)
    if unknown or not mask:
        raise InvalidArgument(
            f"update_mask may name only: {', '.join(sorted(ORGANIZATION_FIELDS))}"
        )
    organization = await get_organization(session, caller, organization_id=organization_id)
    check_etag(etag, organization.version)
    touches_dpa = bool({"dpa_signed_on", "dpa_expires_on", "dpa_document_id"} & set(mask))
    if touches_dpa and organization.kind == "own":
        raise InvalidArgument("the own organisation has no DPA; it is the data controller")
    was_active = dpa_active(organization, today=now.date())
    if "name" in mask:
        organization.name = validate_name(name, field="name")
        await _name_free(session, caller.tenant_id, organization.name, organization.id)
    signed = organization.dpa_signed_on
    expires = organization.dpa_expires_on
    if "dpa_signed_on" in mask:
        signed = parse_date(dpa_signed_on, field="dpa_signed_on")
    if "dpa_expires_on" in mask:
        expires = parse_date(dpa_expires_on, field="dpa_expires_on")
    _check_dates(signed, expires)
    dpa_changed = (signed, expires) != (organization.dpa_signed_on, organization.dpa_expires_on)
    organization.dpa_signed_on, organization.dpa_expires_on = signed, expires
    if "dpa_document_id" in mask:
        organization.dpa_document_id = _document_id(dpa_document_id)
    organization.updated_at = now
    organization.version += 1
    await flush_unique(session, _name_taken())
    if dpa_changed:
        _announce(session, organization, was_active=was_active, now=now)
    audit.record(
        session,
        audit.AuditEntry(
            tenant_id=caller.tenant_id,
            actor=caller.name,
            action="organization.update",
            target_id=organization.id,
        ),
        at=now,
    )
    return organization
