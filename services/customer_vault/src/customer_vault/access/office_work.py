"""The office's side of rotation: exposure reports, rotation tasks, overdue codes, the
secret-age policy — who may see and do what.

- Exposure reports: admins and auditors (``exposure:read``), the whole tenant.
- Rotation tasks and overdue codes: ``rotation_tasks:read``; a dispatcher sees
  the sites of their own areas only, admins and auditors the whole tenant.
- Closing a task by hand: ``rotation_tasks:close`` (dispatchers of the site's
  area, admins), with a reason.
- The secret-age policy: read with ``rotation_tasks:read``, set by an admin
  (``tenant:manage``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from customer_vault import rotation_tasks
from customer_vault.access import exposure, secret_age
from customer_vault.components import Components
from customer_vault.models import Exposure, RotationTask, Site
from customer_vault.visibility import Caller, caller
from fieldvault_platform.auth import Principal, PrincipalKind
from fieldvault_platform.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from fieldvault_platform.paging import Keyset

EXPOSURE_READ = "exposure:read"
ROTATION_TASKS_READ = "rotation_tasks:read"
ROTATION_TASKS_CLOSE = "rotation_tasks:close"
TENANT_MANAGE = "tenant:manage"
MAX_CLOSE_REASON_LENGTH = 500
MIN_CLOSE_REASON_LENGTH = 3
SUBJECT_KINDS = (exposure.USER, exposure.ORGANIZATION)
#: Roles that see every area's tasks; a dispatcher sees their own areas'.
TENANT_WIDE = frozenset({"admin", "auditor"})
OLDEST_FIRST = Keyset(RotationTask.opened_at, RotationTask.id)


def _person(principal: Principal, scope: str) -> Caller:
    who = caller(principal, scope)
    if principal.kind is not PrincipalKind.USER:
        raise PermissionDenied("only people of the office may do this")
    return who


def _areas(who: Caller) -> frozenset[str] | None:
    """The areas a caller's view is limited to; None: the whole tenant."""
    if who.principal.roles & TENANT_WIDE:
        return None
    return who.area_ids


async def get_exposure(
    c: Components, principal: Principal, *, subject_kind: str, subject_id: str
) -> Exposure:
    who = _person(principal, EXPOSURE_READ)
    if subject_kind not in SUBJECT_KINDS:
        raise InvalidArgument("subject_kind must be user or organization")
    if not subject_id or len(subject_id) > 36:
        raise InvalidArgument("subject_id must be 1-36 characters")
    report = await exposure.latest_exposure(c.database, who.tenant_id, subject_kind, subject_id)
    if report is None:
        raise NotFound(
            f"no exposure report for this {subject_kind}: one is made when the user is "
            "deactivated or moved, or the organisation's DPA lapses"
        )
    return report


async def list_tasks(
    c: Components,
    principal: Principal,
    *,
    area_id: str,
    status: str,
    site_id: str,
    requested_size: int,
    page_token: str,
) -> tuple[list[RotationTask], str]:
    who = _person(principal, ROTATION_TASKS_READ)
    if status and status not in rotation_tasks.STATUSES:
        raise InvalidArgument("status must be open or closed")
    request = OLDEST_FIRST.request(requested_size, page_token)
    query = (
        select(RotationTask, Site.area_id)
        .join(Site, Site.id == RotationTask.site_id)
        .where(RotationTask.tenant_id == who.tenant_id)
    )
    areas = _areas(who)
    if areas is not None:
        if area_id and area_id not in areas:
            raise PermissionDenied("that area is not one of yours")
        query = query.where(Site.area_id.in_(sorted(areas)))
    if area_id:
        query = query.where(Site.area_id == area_id)
    if status:
        query = query.where(RotationTask.status == status)
    if site_id:
        query = query.where(RotationTask.site_id == site_id)
    async with c.database.unit_of_work() as session:
        rows, token = await request.fetch_rows(session, query)
    tasks = []
    for task, current_area in rows:
        task.area_id = current_area  # shown in the site's area now (not flushed)
        tasks.append(task)
    return tasks, token


async def close_task(
    c: Components, principal: Principal, *, task_id: str, reason: str, now: datetime
) -> RotationTask:
    who = _person(principal, ROTATION_TASKS_CLOSE)
    reason = reason.strip()
    if not MIN_CLOSE_REASON_LENGTH <= len(reason) <= MAX_CLOSE_REASON_LENGTH:
        raise InvalidArgument(
            f"reason must be {MIN_CLOSE_REASON_LENGTH}-{MAX_CLOSE_REASON_LENGTH} characters"
        )
    if not reason.isprintable():
        raise InvalidArgument("reason must be printable text")
    async with c.database.unit_of_work() as session:
        task = await session.get(RotationTask, task_id, with_for_update=True)
        site = await session.get(Site, task.site_id) if task is not None else None
        areas = _areas(who)
        if (
            task is None
            or site is None
            or task.tenant_id != who.tenant_id
            or (areas is not None and site.area_id not in areas)
        ):
            raise NotFound("no such rotation task")
        if not await rotation_tasks.close_by_hand(
            session, task, closed_by=who.name, reason=reason, now=now
        ):
            raise FailedPrecondition("the rotation task is closed already", code="task_closed")
    c.wake_relay()
    return task


async def list_overdue(
    c: Components, principal: Principal, *, area_id: str, site_id: str, now: datetime
) -> list[secret_age.OverdueSecret]:
    who = _person(principal, ROTATION_TASKS_READ)
    areas = _areas(who)
    if areas is not None and area_id and area_id not in areas:
        raise PermissionDenied("that area is not one of yours")
    if area_id:
        areas = frozenset({area_id})
    async with c.database.unit_of_work() as session:
        return await secret_age.overdue_secrets(
            session, who.tenant_id, now, area_ids=areas, site_id=site_id or None
        )


async def get_policy(c: Components, principal: Principal) -> dict[str, int]:
    who = caller(principal, ROTATION_TASKS_READ, TENANT_MANAGE)
    async with c.database.unit_of_work() as session:
        return await secret_age.get_policy(session, who.tenant_id)


async def set_policy(
    c: Components, principal: Principal, limits: dict[str, int], *, now: datetime
) -> dict[str, int]:
    who = _person(principal, TENANT_MANAGE)
    async with c.database.unit_of_work() as session:
        return await secret_age.set_policy(session, who.tenant_id, limits, by=who.name, now=now)
