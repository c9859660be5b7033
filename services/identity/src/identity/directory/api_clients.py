"""Partner systems' OAuth2 clients: the secret is shown once and kept only as a keyed hash."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.errors import InvalidArgument, NotFound
from fieldvault_platform.paging import Keyset
from identity import audit, events
from identity.directory.access import Caller
from identity.directory.people import validate_name
from identity.models import ApiClient
from identity.scopes import PARTNER_SCOPES

BY_ID = Keyset(ApiClient.id)


def new_credentials() -> tuple[str, str]:
    """A client id and a 256-bit secret."""
    return f"fvc_{secrets.token_hex(12)}", secrets.token_urlsafe(32)


def check_scopes(scopes: Sequence[str]) -> list[str]:
    unknown = sorted(set(scopes) - PARTNER_SCOPES)
    if not scopes or unknown:
        raise InvalidArgument(
            f"scopes must be among: {', '.join(sorted(PARTNER_SCOPES))}", code="invalid_scope"
        )
    return sorted(set(scopes))


async def create_api_client(
    session: AsyncSession,
    caller: Caller,
    *,
    name: str,
    scopes: list[str],
    client_id: str,
    secret_hash: str,
    now: datetime,
) -> ApiClient:
    client = ApiClient(
        id=str(uuid.uuid4()),
        tenant_id=caller.tenant_id,
        client_id=client_id,
        name=validate_name(name, field="name"),
        scopes=scopes,
        secret_hash=secret_hash,
        created_at=now,
        created_by=caller.name[:36],
    )
    session.add(client)
    audit.record(
        session,
        audit.AuditEntry(
            tenant_id=caller.tenant_id,
            actor=caller.name,
            action="api_client.create",
            target_id=client.id,
        ),
        at=now,
    )
    return client


async def list_api_clients(
    session: AsyncSession, caller: Caller, *, requested_size: int, page_token: str
) -> tuple[list[ApiClient], str]:
    request = BY_ID.request(requested_size, page_token)
    query = select(ApiClient).where(
        ApiClient.tenant_id == caller.tenant_id, ApiClient.revoked_at.is_(None)
    )
    return await request.fetch(session, query)


async def delete_api_client(
    session: AsyncSession, caller: Caller, *, client_row_id: str, now: datetime
) -> None:
    """Revoke the client (idempotent): it gets no new tokens, and ``api_client_revoked``
    tells every service to refuse the ones it holds and to stop its webhooks."""
    client = await session.get(ApiClient, client_row_id)
    if client is None or client.tenant_id != caller.tenant_id:
        raise NotFound("API client not found")
    if client.revoked_at is None:
        client.revoked_at = now
        audit.record(
            session,
            audit.AuditEntry(
                tenant_id=caller.tenant_id,
                actor=caller.name,
                action="api_client.delete",
                target_id=client.id,
            ),
            at=now,
        )
        events.api_client_revoked(
            session,
            tenant_id=client.tenant_id,
            api_client_id=client.id,
            client_id=client.client_id,
            at=now,
        )
