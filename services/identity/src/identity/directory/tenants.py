"""Tenants: created by the platform operator, each with its own organisation and first admin."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.errors import AlreadyExists, InvalidArgument, NotFound
from fieldvault_platform.etags import check_etag, stale
from identity import audit, events
from identity.components import Components
from identity.directory.access import Caller, flush_unique
from identity.directory.invitations import create_invitation, invitation_token, invitation_url
from identity.directory.people import normalise_email, validate_name
from identity.models import Invitation, Organization, Tenant, User
from identity.scopes import DEFAULT_MFA_REQUIRED_ROLES, ROLES

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


@dataclass(frozen=True, slots=True)
class NewTenant:
    tenant: Tenant
    admin: User
    invitation_url: str


async def create_tenant(
    components: Components,
    *,
    slug: str,
    name: str,
    admin_email: str,
    admin_name: str,
    now: datetime,
) -> NewTenant:
    if not SLUG.match(slug):
        raise InvalidArgument(
            "slug must be 3-63 lowercase letters, digits or '-', not starting or ending with '-'"
        )
    name = validate_name(name, field="name")
    email = normalise_email(admin_email)
    admin_name = validate_name(admin_name, field="admin_name")
    async with components.database.unit_of_work() as session:
        taken = AlreadyExists(f"a tenant with slug {slug!r} exists", code="tenant_exists")
        if await session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
            raise taken
        tenant = Tenant(
            id=str(uuid.uuid4()),
            slug=slug,
            name=name,
            mfa_required_roles=list(DEFAULT_MFA_REQUIRED_ROLES),
            break_glass_step_up_required=True,
            created_at=now,
            version=1,
        )
        own = Organization(
            id=str(uuid.uuid4()),
            tenant_id=tenant.id,
            name=name,
            kind="own",
            created_at=now,
            updated_at=now,
            version=1,
        )
        admin = User(
            id=str(uuid.uuid4()),
            tenant_id=tenant.id,
            email=email,
            name=admin_name,
            roles=["admin"],
            organization_id=own.id,
            status="invited",
            totp_confirmed=False,
            created_at=now,
            updated_at=now,
            version=1,
        )
        session.add(tenant)
        await flush_unique(session, taken)
        session.add(own)
        await session.flush()
        session.add(admin)
        await session.flush()
        invitation: Invitation = await create_invitation(session, components, user=admin, now=now)
        events.tenant_created(session, tenant_id=tenant.id, slug=slug, at=now)
        audit.record(
            session,
            audit.AuditEntry(
                tenant_id=tenant.id,
                actor=audit.OPERATOR,
                action="tenant.create",
                target_id=tenant.id,
            ),
            at=now,
        )
    token = await invitation_token(components, invitation.id)
    components.wake_relay()
    return NewTenant(tenant, admin, invitation_url(components, token))


async def get_tenant(session: AsyncSession, caller: Caller) -> Tenant:
    tenant = await session.get(Tenant, caller.tenant_id)
    if tenant is None:
        raise NotFound("tenant not found")
    return tenant


async def update_policy(
    session: AsyncSession,
    caller: Caller,
    *,
    mfa_required_roles: list[str],
    break_glass_step_up_required: bool | None = None,
    etag: str,
    now: datetime,
) -> Tenant:
    """Set the tenant's second-factor policy; ``break_glass_step_up_required`` None: unchanged."""
    unknown = sorted(set(mfa_required_roles) - set(ROLES))
    if unknown:
        raise InvalidArgument(f"unknown roles: {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    tenant = await get_tenant(session, caller)
    check_etag(etag, tenant.version)
    result = await session.execute(
        update(Tenant)
        .where(Tenant.id == tenant.id, Tenant.version == tenant.version)
        .values(
            mfa_required_roles=sorted(set(mfa_required_roles)),
            break_glass_step_up_required=(
                tenant.break_glass_step_up_required
                if break_glass_step_up_required is None
                else break_glass_step_up_required
            ),
            version=Tenant.version + 1,
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise stale()
    audit.record(
        session,
        audit.AuditEntry(
            tenant_id=tenant.id, actor=caller.name, action="tenant.policy", target_id=tenant.id
        ),
        at=now,
    )
    await session.refresh(tenant)
    return tenant
