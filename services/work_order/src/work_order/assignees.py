"""Who may take a job: the rule assignment applies, and applies again when the job changes area.

An assignee is an active technician of the tenant; a subcontractor organisation
(assigned as a whole or through one of its people) must have an active DPA;
one of the own company's technicians must work in the job's area.
Subcontractors are chosen per job, so their people are not bound to areas.
"""

from __future__ import annotations

from fieldvault_platform.errors import FailedPrecondition, NotFound
from work_order.models import WorkOrder
from work_order.peer_clients import Directory, Organization, Person


def invalid_assignee() -> FailedPrecondition:
    return FailedPrecondition("the assignee must be an active technician", code="invalid_assignee")


def dpa_inactive() -> FailedPrecondition:
    return FailedPrecondition(
        "the subcontractor has no active data-processing agreement", code="dpa_inactive"
    )


def not_in_area() -> FailedPrecondition:
    return FailedPrecondition(
        "the technician does not work in the work order's area", code="assignee_not_in_area"
    )


def refusal(
    person: Person | None, organization: Organization, area_id: str | None
) -> FailedPrecondition | None:
    """Why this assignee may not take a job in ``area_id`` (None: they may; the area
    is not looked at when ``area_id`` is None)."""
    if person is not None and (not person.active or "technician" not in person.roles):
        return invalid_assignee()
    if organization.subcontractor and not organization.dpa_active:
        return dpa_inactive()
    if (
        area_id is not None
        and person is not None
        and not organization.subcontractor
        and area_id not in person.area_ids
    ):
        return not_in_area()
    return None


async def current_refusal(directory: Directory, order: WorkOrder) -> FailedPrecondition | None:
    """The rule for ``order``'s assignee as identity knows them now, in the order's area."""
    person = None
    try:
        if order.assignee_user_id and not order.assigned_to_organization:
            person = await directory.person(order.tenant_id, order.assignee_user_id)
        organization_id = person.organization_id if person else order.assignee_organization_id
        organization = await directory.organization(order.tenant_id, organization_id or "")
    except NotFound:
        return invalid_assignee()  # identity no longer knows them
    return refusal(person, organization, order.area_id)
