"""Grants: who may reveal which fields of a site, for which work order, when.

Only work-order's service token creates and revokes them (on behalf of the
dispatcher or manager who assigned the job). Creating is idempotent per work
order and grantee — a retry, or a reschedule that moves the window, updates
the open grant rather than adding a second. A grant names a user who is still
active and still in the organisation named (as far as identity's events have
told this service), and a subcontractor's only while its DPA is active.
Identity's events revoke grants too: a deactivated user's, a user's who moved
to another organisation, and all of an organisation's when its DPA lapses.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from customer_vault import audit
from customer_vault.components import Components
from customer_vault.models import DirectoryUser, Grant, Site
from customer_vault.records.site_secrets import GRANT_FIELDS
from customer_vault.visibility import Caller, Reach
from fieldvault_platform.auth import Principal, PrincipalKind
from fieldvault_platform.db import as_utc
from fieldvault_platform.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from fieldvault_platform.paging import Keyset

GRANTS_WRITE = "grants:write"
OLDEST_FIRST = Keyset(Grant.created_at, Grant.id)
#: The one service account that manages grants.
GRANT_MANAGER = "work_order"
_ID_LIMIT = 36


def authorize_grant_manager(principal: Principal) -> audit.AuditActor:
    principal.require_scope(GRANTS_WRITE)
    if principal.kind is not PrincipalKind.SERVICE or principal.name != GRANT_MANAGER:
        raise PermissionDenied("only the work-order service manages grants")
    if principal.tenant_id is None:
        raise PermissionDenied("grants need a token bound to a tenant")
    return audit.AuditActor.of(principal)


def _acting(actor: audit.AuditActor, acting_user_id: str) -> audit.AuditActor:
    if actor.on_behalf_of or not acting_user_id:
        return actor
    return audit.AuditActor(actor.kind, actor.id, actor.organization_id, acting_user_id[:_ID_LIMIT])


def _grantee(user_id: str, organization_id: str) -> str:
    return f"user:{user_id}" if user_id else f"org:{organization_id}"


def _check_id(name: str, value: str, *, required: bool = True) -> str:
    if (required and not value) or len(value) > _ID_LIMIT:
        raise InvalidArgument(f"{name} is required (at most {_ID_LIMIT} characters)")
    return value


def _check_fields(fields: Sequence[str]) -> list[str]:
    unknown = sorted(set(fields) - set(GRANT_FIELDS))
    if not fields or unknown:
        raise InvalidArgument(f"fields must be a non-empty subset of: {', '.join(GRANT_FIELDS)}")
    return sorted(set(fields))


async def create_grant(
    c: Components,
    principal: Principal,
    *,
    site_id: str,
    user_id: str,
    organization_id: str,
    subcontractor: bool,
    fields: Sequence[str],
    work_order_id: str,
    valid_from: datetime | None,
    valid_until: datetime | None,
    acting_user_id: str,
    now: datetime,
) -> tuple[Grant, bool]:
    actor = _acting(authorize_grant_manager(principal), acting_user_id)
    tenant_id = str(principal.tenant_id)
    _check_id("site_id", site_id)
    _check_id("organization_id", organization_id)
    _check_id("work_order_id", work_order_id)
    _check_id("user_id", user_id, required=False)
    granted_fields = _check_fields(fields)
    if valid_from is None or valid_until is None:
        raise InvalidArgument("valid_from and valid_until are required")
    if valid_until <= valid_from:
        raise InvalidArgument("valid_until must be after valid_from")
    if valid_until - valid_from > timedelta(days=c.settings.max_grant_days):
        raise InvalidArgument(f"a grant may last at most {c.settings.max_grant_days} days")
    if valid_until <= now:
        raise InvalidArgument("valid_until is in the past")
    if subcontractor and not await c.dpa.is_active(tenant_id, organization_id):
        raise FailedPrecondition(
            "the subcontractor has no active data-processing agreement", code="dpa_inactive"
        )
    grantee = _grantee(user_id, organization_id)
    for _attempt in range(2):
        try:
            async with c.database.unit_of_work() as session:
                # Serialised with identity's events (they revoke under the same
                # lock), so a deactivation or move is either seen here or revokes this.
                await audit.lock_chain(session, tenant_id)
                if user_id:
                    await _check_grantee(session, tenant_id, user_id, organization_id)
                site = await session.scalar(
                    select(Site).where(Site.id == site_id, Site.tenant_id == tenant_id)
                )
                if site is None:
                    raise NotFound("site not found")
                existing = await session.scalar(
                    select(Grant).where(
                        Grant.tenant_id == tenant_id,
                        Grant.work_order_id == work_order_id,
                        Grant.grantee == grantee,
                        Grant.revoked_at.is_(None),
                    )
                )
                if existing is not None:
                    # A retry, or the job moved: the one open grant follows it.
                    changed = (
                        as_utc(existing.valid_from) != valid_from
                        or as_utc(existing.valid_until) != valid_until
                        or sorted(existing.fields) != granted_fields
                        or existing.site_id != site.id
                    )
                    if changed:
                        existing.valid_from, existing.valid_until = valid_from, valid_until
                        existing.fields, existing.site_id = granted_fields, site.id
                        await _audit(
                            session, c.audit, tenant_id, actor, existing, "grant.update", now
                        )
                    return existing, False
                grant = Grant(
                    id=str(uuid.uuid4()),
                    tenant_id=tenant_id,
                    site_id=site.id,
                    user_id=user_id or None,
                    organization_id=organization_id,
                    grantee=grantee,
                    subcontractor=subcontractor,
                    fields=granted_fields,
                    work_order_id=work_order_id,
                    valid_from=valid_from,
                    valid_until=valid_until,
                    granted_by=principal.subject,
                    on_behalf_of=actor.on_behalf_of,
                    created_at=now,
                )
                session.add(grant)
                await session.flush()
                await _audit(session, c.audit, tenant_id, actor, grant, "grant.create", now)
                return grant, True
        except IntegrityError:
            continue  # a concurrent create of the same grant won; return that one
    raise AssertionError("the open grant vanished between two reads")


async def _check_grantee(
    session: AsyncSession, tenant_id: str, user_id: str, organization_id: str
) -> None:
    """Refuse a user identity deactivated, or one who has left the organisation named."""
    known = await session.get(DirectoryUser, (tenant_id, user_id))
    if known is None:
        return
    if known.deactivated_at is not None:
        raise FailedPrecondition("the user is deactivated", code="user_inactive")
    if known.organization_id is not None and known.organization_id != organization_id:
        raise FailedPrecondition(
            "the user is no longer in that organisation", code="user_not_in_organization"
        )


async def _audit(
    session: AsyncSession,
    trail: audit.AuditTrail,
    tenant_id: str,
    actor: audit.AuditActor,
    grant: Grant,
    action: str,
    now: datetime,
    reason: str | None = None,
) -> None:
    await trail.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        entry=audit.Entry(
            action=action,
            resource_type="grant",
            resource_id=grant.id,
            site_id=grant.site_id,
            fields=list(grant.fields),
            purpose=grant.work_order_id,
            reason=reason,
        ),
        now=now,
    )


async def revoke_grants(
    c: Components,
    principal: Principal,
    *,
    work_order_id: str,
    user_id: str,
    organization_id: str,
    reason: str,
    acting_user_id: str,
    now: datetime,
) -> int:
    actor = _acting(authorize_grant_manager(principal), acting_user_id)
    _check_id("work_order_id", work_order_id)
    reason = (reason.strip() or "revoked")[:64]
    conditions: list[ColumnElement[bool]] = [Grant.work_order_id == work_order_id]
    if user_id or organization_id:
        conditions.append(Grant.grantee == _grantee(user_id, organization_id))
    async with c.database.unit_of_work() as session:
        return await revoke_where(
            session,
            c.audit,
            str(principal.tenant_id),
            conditions,
            actor=actor,
            reason=reason,
            now=now,
        )


async def revoke_where(
    session: AsyncSession,
    trail: audit.AuditTrail,
    tenant_id: str,
    conditions: Sequence[ColumnElement[bool]],
    *,
    actor: audit.AuditActor,
    reason: str,
    now: datetime,
) -> int:
    """Revoke the tenant's open grants matching ``conditions``; each revocation audited."""
    open_grants = (
        await session.scalars(
            select(Grant)
            .where(Grant.tenant_id == tenant_id, Grant.revoked_at.is_(None), *conditions)
            .with_for_update()
        )
    ).all()
    for grant in open_grants:
        await session.execute(
            update(Grant)
            .where(Grant.id == grant.id, Grant.revoked_at.is_(None))
            .values(revoked_at=now, revoke_reason=reason)
        )
        await _audit(session, trail, tenant_id, actor, grant, "grant.revoke", now, reason)
    return len(open_grants)


async def list_grants(
    c: Components,
    caller: Caller,
    *,
    site_id: str,
    user_id: str,
    work_order_id: str,
    active_only: bool,
    requested_size: int,
    page_token: str,
    now: datetime,
) -> tuple[list[Grant], str]:
    request = OLDEST_FIRST.request(requested_size, page_token)
    query = select(Grant).where(Grant.tenant_id == caller.tenant_id)
    tenant_wide = caller.reach is Reach.TENANT or "auditor" in caller.principal.roles
    if not tenant_wide:
        if caller.reach is not Reach.AREAS:
            raise PermissionDenied("your role cannot list grants")
        query = query.join(Site, Site.id == Grant.site_id).where(Site.area_id.in_(caller.area_ids))
    if site_id:
        query = query.where(Grant.site_id == site_id)
    if user_id:
        query = query.where(Grant.user_id == user_id)
    if work_order_id:
        query = query.where(Grant.work_order_id == work_order_id)
    if active_only:
        query = query.where(
            Grant.revoked_at.is_(None), Grant.valid_from <= now, Grant.valid_until > now
        )
    async with c.database.unit_of_work() as session:
        return await request.fetch(session, query)


def is_active(grant: Grant, now: datetime) -> bool:
    return grant.revoked_at is None and as_utc(grant.valid_from) <= now < as_utc(grant.valid_until)
