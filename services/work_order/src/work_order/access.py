"""Who may see and change which work orders.

Scopes come from roles (identity's ``scopes.py``); the data decides the rest:
partner clients act tenant-wide; dispatchers in their areas; subcontractor
managers on work orders assigned to their organisation; technicians on their
own jobs. Another tenant's work order, or one the caller may not see, is
simply not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.auth import Principal, PrincipalKind
from fieldvault_platform.auth.contract import SERVICE_SUBJECT_PREFIX
from fieldvault_platform.errors import NotFound, PermissionDenied
from work_order.models import WorkOrder


@dataclass(frozen=True, slots=True)
class Caller:
    """The checked caller of a work-order use case: a person or partner system of
    one tenant, or work-order itself (:func:`system_caller`)."""

    principal: Principal
    tenant_id: str

    @property
    def id(self) -> str:
        """A user id, or ``client:<id>`` for a partner system."""
        return self.principal.subject

    @property
    def is_client(self) -> bool:
        return self.principal.kind is PrincipalKind.CLIENT

    def has_role(self, role: str) -> bool:
        return self.principal.kind is PrincipalKind.USER and role in self.principal.roles

    def dispatches(self, order: WorkOrder) -> bool:
        """May act on ``order`` as its dispatcher (or as the partner system of the tenant)."""
        return self.is_client or (
            self.has_role("dispatcher") and order.area_id in self.principal.area_ids
        )

    def manages(self, order: WorkOrder) -> bool:
        """A subcontractor manager and a work order assigned to their organisation."""
        return (
            self.has_role("subcontractor_manager")
            and order.assignee_organization_id is not None
            and order.assignee_organization_id == self.principal.organization_id
        )

    def is_assignee(self, order: WorkOrder) -> bool:
        return self.principal.kind is PrincipalKind.USER and order.assignee_user_id == self.id


def system_caller(tenant_id: str) -> Caller:
    """work-order itself, acting on an event (a deactivation, a lapsed DPA, a moved site):
    its history entries name ``service:work_order`` and its grant changes act for nobody."""
    never = datetime.fromtimestamp(0, UTC)
    principal = Principal(
        subject=f"{SERVICE_SUBJECT_PREFIX}work_order",
        kind=PrincipalKind.SERVICE,
        tenant_id=tenant_id,
        organization_id=None,
        roles=frozenset(),
        area_ids=frozenset(),
        scopes=frozenset(),
        session_id=None,
        token_id="",
        audience="work_order",
        issued_at=never,
        expires_at=never,
    )
    return Caller(principal, tenant_id)


def caller_of(principal: Principal, *any_of_scopes: str) -> Caller:
    """The caller of a gRPC call, holding at least one of the scopes."""
    if principal.tenant_id is None or principal.kind is PrincipalKind.SERVICE:
        raise PermissionDenied("this call needs a person's or a partner system's token")
    if not any(principal.has_scope(scope) for scope in any_of_scopes):
        principal.require_scope(any_of_scopes[0])
    return Caller(principal, principal.tenant_id)


def visible(caller: Caller) -> ColumnElement[bool]:
    """The WHERE clause of the work orders this caller may see."""
    in_tenant = WorkOrder.tenant_id == caller.tenant_id
    if caller.is_client:
        return in_tenant
    principal = caller.principal
    reach: list[ColumnElement[bool]] = []
    if caller.has_role("dispatcher"):
        reach.append(WorkOrder.area_id.in_(principal.area_ids))
    if caller.has_role("subcontractor_manager") and principal.organization_id:
        reach.append(WorkOrder.assignee_organization_id == principal.organization_id)
    if caller.has_role("technician"):
        reach.append(WorkOrder.assignee_user_id == caller.id)
    if not reach:
        return false()
    return and_(in_tenant, or_(*reach))


async def load(session: AsyncSession, caller: Caller, work_order_id: str) -> WorkOrder:
    order = await session.scalar(
        select(WorkOrder).where(WorkOrder.id == work_order_id, visible(caller))
    )
    if order is None:
        raise NotFound("work order not found")
    return order
