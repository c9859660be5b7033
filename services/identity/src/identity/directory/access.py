"""Who may read or change the directory, and paging through it.

Admin-side calls come with a user's token (scopes from roles) or, for reads,
a service token with ``directory:read``. Objects of another tenant are
reported as not found, never as forbidden (docs/security-model.md#tenancy).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.auth import Principal, PrincipalKind
from fieldvault_platform.errors import (
    AlreadyExists,
    PermissionDenied,
)
from identity.callers import live_user

DIRECTORY_READ = "directory:read"


@dataclass(frozen=True, slots=True)
class Caller:
    """The caller of a directory use case, checked: tenant and audit name."""

    tenant_id: str
    #: For the audit log: a user id or ``service:<name>``.
    name: str
    principal: Principal


async def authorize(
    session: AsyncSession, principal: Principal, *, scope: str, service_may_read: bool = False
) -> Caller:
    """The checked caller of a use case needing ``scope``; users must still be live."""
    if principal.kind is PrincipalKind.SERVICE and service_may_read:
        principal.require_scope(DIRECTORY_READ)
        if principal.tenant_id is None:
            raise PermissionDenied("a directory read needs a tenant-bound token")
        return Caller(principal.tenant_id, principal.subject, principal)
    principal.require_scope(scope)
    user = await live_user(session, principal)
    return Caller(user.tenant_id, user.id, principal)


async def flush_unique(session: AsyncSession, taken: AlreadyExists) -> None:
    """Write pending rows now; losing a uniqueness race becomes ``taken``.

    The look-up before an insert cannot see a concurrent transaction's row; the
    unique constraint does. The driver's error is dropped: it quotes the
    clashing values (e-mail addresses), which must not reach logs.
    """
    try:
        await session.flush()
    except IntegrityError:
        raise taken from None
