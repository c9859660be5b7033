"""Who may see and change which customers and sites.

Scopes come from the caller's roles (identity's ``scopes.py``); on top of
them the data decides:

- partner clients, admins and data protection officers act tenant-wide;
- dispatchers act in their areas (a customer is theirs when it belongs to one
  of their areas or has a site there);
- everyone else (technicians, subcontractor staff) sees a site only while
  they hold an active grant for it — that is, while they have a job there.
  A subcontractor's grant counts only while identity says the organisation's
  data-processing agreement is active ("no DPA, no access"): for reading the
  site, listing and writing its codes alike, not only for a reveal.

Every query is filtered by the caller's tenant, so another tenant's object is
simply not found (docs/security-model.md#tenancy: 404, never 403).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum

from sqlalchemy import ColumnElement, and_, exists, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from customer_vault.dpa import DpaStatus
from customer_vault.models import Customer, Grant, Site
from fieldvault_platform.auth import Principal, PrincipalKind
from fieldvault_platform.db import Database
from fieldvault_platform.errors import NotFound, PermissionDenied

TENANT_WIDE_ROLES = frozenset({"admin", "dpo"})
AREA_ROLES = frozenset({"dispatcher"})


class Reach(Enum):
    TENANT = "tenant"
    AREAS = "areas"
    GRANTS = "grants"


@dataclass(frozen=True, slots=True)
class Caller:
    principal: Principal
    tenant_id: str
    #: Subcontractor organisations whose grants count for this caller now (their
    #: DPA is active). Filled by :func:`with_dpa_checked`; until then no
    #: subcontractor grant opens a site (fail closed).
    dpa_active_organizations: frozenset[str] = frozenset()

    @property
    def user_id(self) -> str | None:
        return self.principal.acting_user_id

    @property
    def name(self) -> str:
        """Who wrote something: the acting user, or the client / service itself."""
        return self.user_id or self.principal.subject

    @property
    def reach(self) -> Reach:
        principal = self.principal
        if principal.kind is not PrincipalKind.USER:
            return Reach.TENANT
        if principal.roles & TENANT_WIDE_ROLES:
            return Reach.TENANT
        if principal.roles & AREA_ROLES:
            return Reach.AREAS
        return Reach.GRANTS

    @property
    def area_ids(self) -> frozenset[str]:
        return self.principal.area_ids


def caller(principal: Principal, *any_of_scopes: str) -> Caller:
    """The checked caller: bound to a tenant and holding at least one of the scopes."""
    if principal.tenant_id is None:
        raise PermissionDenied("this call needs a token bound to a tenant")
    if any_of_scopes and not any(principal.has_scope(scope) for scope in any_of_scopes):
        principal.require_scope(any_of_scopes[0])
    return Caller(principal, principal.tenant_id)


def grantee_clause(caller: Caller) -> ColumnElement[bool]:
    """Grants naming this user: theirs, or their organisation's as a whole (in any state)."""
    grantee = Grant.user_id == caller.user_id
    organization_id = caller.principal.organization_id
    if organization_id is not None:
        grantee = or_(
            grantee, and_(Grant.user_id.is_(None), Grant.organization_id == organization_id)
        )
    return and_(Grant.tenant_id == caller.tenant_id, grantee)


def active_grant_clause(caller: Caller, now: datetime) -> ColumnElement[bool]:
    """Grants that let this user act now."""
    return and_(
        grantee_clause(caller),
        Grant.revoked_at.is_(None),
        Grant.valid_from <= now,
        Grant.valid_until > now,
    )


def usable_grant_clause(caller: Caller, now: datetime) -> ColumnElement[bool]:
    """Active grants that hold up: own staff's, or a subcontractor's with an active DPA."""
    dpa_holds = or_(
        Grant.subcontractor.is_(False),
        Grant.organization_id.in_(sorted(caller.dpa_active_organizations)),
    )
    return and_(active_grant_clause(caller, now), dpa_holds)


async def with_dpa_checked(
    dpa: DpaStatus, database: Database, caller: Caller, now: datetime
) -> Caller:
    """The caller, knowing which of their grants' subcontractors have an active DPA now.

    Only grant-based callers need it; identity is asked (cached briefly) once per
    organisation among their active subcontractor grants.
    """
    if caller.reach is not Reach.GRANTS or caller.user_id is None:
        return caller
    async with database.unit_of_work() as session:
        organizations = (
            await session.scalars(
                select(Grant.organization_id)
                .where(active_grant_clause(caller, now), Grant.subcontractor.is_(True))
                .distinct()
            )
        ).all()
    active = frozenset([org for org in organizations if await dpa.is_active(caller.tenant_id, org)])
    return replace(caller, dpa_active_organizations=active)


def visible_sites(caller: Caller, now: datetime) -> ColumnElement[bool]:
    """The WHERE clause of the sites this caller may see (see :func:`with_dpa_checked`)."""
    in_tenant = Site.tenant_id == caller.tenant_id
    if caller.reach is Reach.TENANT:
        return in_tenant
    if caller.reach is Reach.AREAS:
        return and_(in_tenant, Site.area_id.in_(caller.area_ids))
    if caller.user_id is None:
        return false()
    job_here = exists().where(Grant.site_id == Site.id, usable_grant_clause(caller, now))
    return and_(in_tenant, job_here)


def visible_customers(caller: Caller) -> ColumnElement[bool]:
    """The WHERE clause of the customers this caller may see (grant-based callers: none)."""
    in_tenant = Customer.tenant_id == caller.tenant_id
    if caller.reach is Reach.TENANT:
        return in_tenant
    if caller.reach is Reach.AREAS:
        site_in_area = exists().where(
            Site.customer_id == Customer.id, Site.area_id.in_(caller.area_ids)
        )
        return and_(in_tenant, or_(Customer.area_id.in_(caller.area_ids), site_in_area))
    return false()


async def load_customer(session: AsyncSession, caller: Caller, customer_id: str) -> Customer:
    customer = await session.scalar(
        select(Customer).where(Customer.id == customer_id, visible_customers(caller))
    )
    if customer is None:
        raise NotFound("customer not found")
    return customer


async def load_site(
    session: AsyncSession, caller: Caller, site_id: str, now: datetime
) -> tuple[Site, Customer]:
    row = (
        await session.execute(
            select(Site, Customer)
            .join(Customer, Customer.id == Site.customer_id)
            .where(Site.id == site_id, visible_sites(caller, now))
        )
    ).first()
    if row is None:
        raise NotFound("site not found")
    return row[0], row[1]


def require_area(caller: Caller, area_id: str) -> None:
    """Creating or moving a record into an area: dispatchers only into their own."""
    if caller.reach is Reach.AREAS and area_id not in caller.area_ids:
        raise PermissionDenied("you can only use your own areas")
    if caller.reach is Reach.GRANTS:
        raise PermissionDenied("your role cannot manage customers or sites")
