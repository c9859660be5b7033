"""Who may read or change the directory, and paging through it.

Admin-side calls come with a user's token (scopes from roles) or, for reads,
a service token with ``directory:read``. Objects of another tenant are
reported as not found, never as forbidden (API.md).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.auth import Principal, PrincipalKind
from fieldvault_platform.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
)
from identity.callers import live_user

T = TypeVar("T")

DIRECTORY_READ = "directory:read"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True, slots=True)
class Actor:
    """The caller of a directory use case, checked: tenant and audit name."""

    tenant_id: str
    #: For the audit log: a user id or ``service:<name>``.
    name: str
    principal: Principal


async def authorize(
    session: AsyncSession, principal: Principal, *, scope: str, service_may_read: bool = False
) -> Actor:
    """The checked caller of a use case needing ``scope``; users must still be live."""
    if principal.kind is PrincipalKind.SERVICE and service_may_read:
        principal.require_scope(DIRECTORY_READ)
        if principal.tenant_id is None:
            raise PermissionDenied("a directory read needs a tenant-bound token")
        return Actor(principal.tenant_id, principal.subject, principal)
    principal.require_scope(scope)
    user = await live_user(session, principal)
    return Actor(user.tenant_id, user.id, principal)


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument("page_size must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def page_of(rows: list[T], size: int, sort_key: Callable[[T], Any]) -> tuple[list[T], str]:
    """The first ``size`` of ``rows`` (fetched with ``limit(size + 1)``) and the next token."""
    if len(rows) <= size:
        return rows, ""
    page = rows[:size]
    return page, encode_page_token([sort_key(page[-1])])


def encode_page_token(last: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(last).encode()).decode().rstrip("=")


def decode_page_token(token: str) -> list[Any] | None:
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error):
        value = None
    if not isinstance(value, list) or not value:
        raise InvalidArgument("page_token is not one this service issued")
    return value


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


def stale() -> FailedPrecondition:
    return FailedPrecondition(
        "the resource changed since it was read; fetch it again", code="precondition_failed"
    )


def check_etag(etag: str, version: int) -> None:
    """Refuse an update based on a stale read (empty etag: no precondition)."""
    if etag and etag.strip().removeprefix("W/") != f'"{version}"':
        raise stale()
