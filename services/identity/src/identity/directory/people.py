"""Users: who they are, their roles, organisation and areas, and the rules between them.

Invariants, each refused with a clear message:

* a subcontractor's users belong to that subcontractor and may only be
  ``technician`` or ``subcontractor_manager`` (office roles stay in the own company);
* ``subcontractor_manager`` only in a subcontractor organisation;
* an admin cannot remove the last active admin — by demotion or deactivation.
  The check and the change are serialised per tenant (the tenant row is
  updated first, which locks it on PostgreSQL and takes SQLite's write lock),
  so two admins demoting each other at once cannot both succeed.

Reducing someone's roles or areas, or moving them to another organisation,
revokes their sessions, so their next token says what they may do now.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import String, cast, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault.identity.v1 import identity_events_pb2 as events_pb
from fieldvault_platform import limits
from fieldvault_platform.auth import PrincipalKind
from fieldvault_platform.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from fieldvault_platform.etags import check_etag
from fieldvault_platform.paging import Keyset
from identity import audit, events
from identity.auth.tokens import user_area_ids
from identity.directory.access import Caller, flush_unique
from identity.models import Area, Invitation, Organization, Tenant, User, UserArea
from identity.revocation import revoke_user_sessions
from identity.scopes import ROLE_SCOPES, ROLES

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
SUBCONTRACTOR_ROLES = frozenset({"technician", "subcontractor_manager"})
BY_ID = Keyset(User.id)
USER_FIELDS = frozenset({"name", "roles", "organization_id", "area_ids"})


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > limits.EMAIL or not _EMAIL.match(email):
        raise InvalidArgument("email is not a valid e-mail address")
    return email


def validate_name(name: str, *, field: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidArgument(f"{field} must be 1-200 characters")
    return name


def _validate_roles(roles: Sequence[str]) -> list[str]:
    if not roles:
        raise InvalidArgument(f"roles must name at least one of: {', '.join(ROLES)}")
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise InvalidArgument(f"unknown roles: {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    return sorted(set(roles))


def _check_roles_fit(roles: list[str], organization: Organization) -> None:
    if organization.kind == "subcontractor":
        office = sorted(set(roles) - SUBCONTRACTOR_ROLES)
        if office:
            raise FailedPrecondition(
                f"users of a subcontractor can only be technician or subcontractor_manager, "
                f"not {', '.join(office)}",
                code="role_not_allowed",
            )
    elif "subcontractor_manager" in roles:
        raise FailedPrecondition(
            "subcontractor_manager is only for users of a subcontractor organisation",
            code="role_not_allowed",
        )


async def _organization(
    session: AsyncSession, tenant_id: str, organization_id: str
) -> Organization:
    if organization_id:
        organization = await session.get(Organization, organization_id)
    else:
        organization = await session.scalar(
            select(Organization).where(
                Organization.tenant_id == tenant_id, Organization.kind == "own"
            )
        )
    if organization is None or organization.tenant_id != tenant_id:
        raise InvalidArgument("organization_id does not name an organisation of this tenant")
    return organization


async def _validate_areas(
    session: AsyncSession, tenant_id: str, area_ids: Sequence[str]
) -> list[str]:
    wanted = sorted(set(area_ids))
    if not wanted:
        return []
    found = set(
        (
            await session.scalars(
                select(Area.id).where(Area.tenant_id == tenant_id, Area.id.in_(wanted))
            )
        ).all()
    )
    missing = [area for area in wanted if area not in found]
    if missing:
        raise InvalidArgument(f"unknown area ids: {', '.join(missing)}")
    return wanted


async def _serialise_tenant(session: AsyncSession, tenant_id: str) -> None:
    # Touching the tenant row orders concurrent admin changes of one tenant.
    await session.execute(
        update(Tenant).where(Tenant.id == tenant_id).values(version=Tenant.version + 0)
    )


async def _active_admins(session: AsyncSession, tenant_id: str) -> list[str]:
    # Columns, not entities: User objects already in the session (the caller,
    # loaded before the tenant lock was taken) would keep their stale roles.
    rows = await session.execute(
        select(User.id, User.roles).where(User.tenant_id == tenant_id, User.status == "active")
    )
    return [user_id for user_id, roles in rows.all() if "admin" in roles]


async def _forbid_removing_last_admin(session: AsyncSession, user: User) -> None:
    if user.status != "active" or "admin" not in user.roles:
        return
    if await _active_admins(session, user.tenant_id) == [user.id]:
        raise FailedPrecondition(
            "this is the tenant's last active admin; make someone else admin first",
            code="last_admin",
        )


async def create_user(
    session: AsyncSession,
    caller: Caller,
    *,
    email: str,
    name: str,
    roles: Sequence[str],
    organization_id: str,
    area_ids: Sequence[str],
    now: datetime,
) -> User:
    email = normalise_email(email)
    name = validate_name(name, field="name")
    checked_roles = _validate_roles(roles)
    organization = await _organization(session, caller.tenant_id, organization_id)
    _check_roles_fit(checked_roles, organization)
    areas = await _validate_areas(session, caller.tenant_id, area_ids)
    taken = AlreadyExists("a user with this email exists in the tenant", code="user_exists")
    if await session.scalar(
        select(User.id).where(User.tenant_id == caller.tenant_id, User.email == email)
    ):
        raise taken
    user = User(
        id=str(uuid.uuid4()),
        tenant_id=caller.tenant_id,
        email=email,
        name=name,
        roles=checked_roles,
        organization_id=organization.id,
        status="invited",
        totp_confirmed=False,
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(user)
    await flush_unique(session, taken)
    session.add_all(UserArea(user_id=user.id, area_id=area) for area in areas)
    audit.record(
        session,
        audit.AuditEntry(
            tenant_id=caller.tenant_id, actor=caller.name, action="user.create", target_id=user.id
        ),
        at=now,
    )
    return user


def _organization_reach(caller: Caller) -> str | None:
    """The one organisation whose people the caller may see, or None for all of them.

    A subcontractor manager reads people to assign their organisation's jobs:
    their own organisation's, not the company's staff or another subcontractor's.
    """
    principal = caller.principal
    if principal.kind is not PrincipalKind.USER:
        return None
    tenant_wide = any(
        "users:read" in ROLE_SCOPES.get(role, frozenset())
        for role in principal.roles - {"subcontractor_manager"}
    )
    if tenant_wide or "subcontractor_manager" not in principal.roles:
        return None
    return principal.organization_id or ""


async def get_user(session: AsyncSession, caller: Caller, *, user_id: str) -> User:
    # Re-read even if the session holds the row (the caller may be the target):
    # updates decide on it after the tenant lock, so it must be current.
    user = await session.get(User, user_id, populate_existing=True)
    if user is None or user.tenant_id != caller.tenant_id:
        raise NotFound("user not found")
    reach = _organization_reach(caller)
    if reach is not None and user.organization_id != reach and user.id != caller.name:
        raise NotFound("user not found")
    return user


def _role_filter(role: str) -> str:
    """A role to filter by: one of :data:`ROLES`, so nothing else reaches the query."""
    if role not in ROLES:
        raise InvalidArgument(f"role must be one of: {', '.join(ROLES)}")
    return role


async def list_users(
    session: AsyncSession,
    caller: Caller,
    *,
    requested_size: int,
    page_token: str,
    role: str = "",
    organization_id: str = "",
    active_only: bool = False,
) -> tuple[list[User], str]:
    """A page of the tenant's users by id, optionally only those with ``role``,
    in ``organization_id`` and/or active; filters are part of the keyset query,
    so paging with the same filters serves every match exactly once."""
    request = BY_ID.request(requested_size, page_token)
    query = select(User).where(User.tenant_id == caller.tenant_id)
    reach = _organization_reach(caller)
    if reach is not None:
        query = query.where(User.organization_id == reach)
    if role:
        # Roles are a JSON list of names: match the quoted name in its text,
        # which works alike on SQLite and PostgreSQL. The name is a known role
        # and autoescape neutralises its "_" (a LIKE wildcard).
        quoted = f'"{_role_filter(role)}"'
        query = query.where(cast(User.roles, String).contains(quoted, autoescape=True))
    if organization_id:
        organization = await _organization(session, caller.tenant_id, organization_id)
        query = query.where(User.organization_id == organization.id)
    if active_only:
        query = query.where(User.status == "active")
    return await request.fetch(session, query)


async def update_user(
    session: AsyncSession,
    caller: Caller,
    *,
    user_id: str,
    mask: Sequence[str],
    name: str,
    roles: Sequence[str],
    organization_id: str,
    area_ids: Sequence[str],
    etag: str,
    now: datetime,
) -> tuple[User, bool]:
    """Apply the masked fields; returns the user and whether sessions were revoked."""
    unknown = sorted(set(mask) - USER_FIELDS)
    if unknown or not mask:
        raise InvalidArgument(f"update_mask may name only: {', '.join(sorted(USER_FIELDS))}")
    await _serialise_tenant(session, caller.tenant_id)
    user = await get_user(session, caller, user_id=user_id)
    check_etag(etag, user.version)
    old_roles, old_areas, old_org = (
        set(user.roles),
        set(await user_area_ids(session, user.id)),
        (user.organization_id),
    )
    new_roles = _validate_roles(roles) if "roles" in mask else sorted(old_roles)
    organization = await _organization(
        session, caller.tenant_id, organization_id if "organization_id" in mask else old_org
    )
    _check_roles_fit(new_roles, organization)
    if "admin" in old_roles and "admin" not in new_roles:
        await _forbid_removing_last_admin(session, user)
    if "name" in mask:
        user.name = validate_name(name, field="name")
    user.roles = new_roles
    user.organization_id = organization.id
    new_areas = old_areas
    if "area_ids" in mask:
        new_areas = set(await _validate_areas(session, caller.tenant_id, area_ids))
        await session.execute(delete(UserArea).where(UserArea.user_id == user.id))
        session.add_all(UserArea(user_id=user.id, area_id=area) for area in sorted(new_areas))
    user.updated_at = now
    user.version += 1
    reduced = (
        not old_roles <= set(new_roles) or not old_areas <= new_areas or old_org != organization.id
    )
    if reduced:
        await revoke_user_sessions(
            session,
            tenant_id=user.tenant_id,
            user_id=user.id,
            reason=events_pb.SESSION_REVOKED_REASON_ROLES_CHANGED,
            now=now,
        )
    if old_org != organization.id:
        # Grants elsewhere were made for the old organisation's work: they end too.
        events.user_organization_changed(
            session,
            tenant_id=user.tenant_id,
            user_id=user.id,
            previous_organization_id=old_org,
            organization_id=organization.id,
            at=now,
        )
    if old_areas - new_areas:
        # What they saw at those areas' sites: customer-vault turns it into rotation tasks.
        events.user_areas_removed(
            session,
            tenant_id=user.tenant_id,
            user_id=user.id,
            area_ids=sorted(old_areas - new_areas),
            at=now,
        )
    audit.record(
        session,
        audit.AuditEntry(
            tenant_id=caller.tenant_id, actor=caller.name, action="user.update", target_id=user.id
        ),
        at=now,
    )
    return user, reduced


async def deactivate_user(
    session: AsyncSession, caller: Caller, *, user_id: str, now: datetime
) -> tuple[User, bool]:
    """Deactivate (idempotent); returns the user and whether anything changed."""
    await _serialise_tenant(session, caller.tenant_id)
    user = await get_user(session, caller, user_id=user_id)
    if user.status == "deactivated":
        return user, False
    await _forbid_removing_last_admin(session, user)
    user.status = "deactivated"
    user.deactivated_at = now
    user.updated_at = now
    user.version += 1
    await revoke_user_sessions(
        session,
        tenant_id=user.tenant_id,
        user_id=user.id,
        reason=events_pb.SESSION_REVOKED_REASON_ADMIN,
        now=now,
    )
    await session.execute(
        update(Invitation)
        .where(
            Invitation.user_id == user.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    events.user_deactivated(session, tenant_id=user.tenant_id, user_id=user.id, at=now)
    audit.record(
        session,
        audit.AuditEntry(
            tenant_id=caller.tenant_id,
            actor=caller.name,
            action="user.deactivate",
            target_id=user.id,
        ),
        at=now,
    )
    return user, True
