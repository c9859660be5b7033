"""Subcontractors' data-processing agreements: stored here, encrypted, referred to by identity.

Each organisation's documents have their own data key (``organization_keys``),
wrapped by the tenant key like a customer's, so rotation re-wraps it and a
customer's erasure does not touch it. Only admins (``organizations:manage``)
upload and read them; every upload and download is audited.
"""

from __future__ import annotations

import uuid
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from customer_vault import audit
from customer_vault.components import Components
from customer_vault.crypto import CustomerCipher
from customer_vault.keys import wrapped_version
from customer_vault.models import DpaDocument, OrganizationKey
from customer_vault.records.contracts import check_document, sealed_document
from customer_vault.visibility import Caller
from fieldvault_platform.errors import NotFound
from fieldvault_platform.vault import DataKey

TABLE = "dpa_documents"


@dataclass(frozen=True)
class DpaDocumentView:
    row: DpaDocument
    filename: str


async def _organization_cipher(
    c: Components, caller: Caller, organization_id: str, *, create: bool, now: datetime
) -> CustomerCipher:
    async with c.database.unit_of_work() as session:
        holder = await session.get(OrganizationKey, (caller.tenant_id, organization_id))
    if holder is None and create:

        async def store(session: AsyncSession, data_key: DataKey) -> None:
            session.add(
                OrganizationKey(
                    tenant_id=caller.tenant_id,
                    organization_id=organization_id,
                    wrapped_key=data_key.wrapped,
                    key_version=wrapped_version(data_key.wrapped),
                    created_at=now,
                )
            )

        with suppress(IntegrityError):  # a concurrent first upload made it: use that one
            await c.keys.store_with_new_data_key(c.database, caller.tenant_id, store)
        async with c.database.unit_of_work() as session:
            holder = await session.get(OrganizationKey, (caller.tenant_id, organization_id))
    if holder is None:
        raise NotFound("organisation has no documents")
    return await c.keys.cipher(holder)


async def upload(
    c: Components,
    caller: Caller,
    *,
    organization_id: str,
    filename: str,
    content_type: str,
    content: bytes,
    request_id: str,
    now: datetime,
) -> DpaDocumentView:
    name, content_type = check_document(
        filename, content_type, content, c.settings.max_contract_bytes
    )
    if not organization_id or not await c.dpa.is_subcontractor(caller.tenant_id, organization_id):
        raise NotFound("subcontractor organisation not found")
    cipher = await _organization_cipher(c, caller, organization_id, create=True, now=now)
    document_id = str(uuid.uuid4())
    row = DpaDocument(
        id=document_id,
        tenant_id=caller.tenant_id,
        organization_id=organization_id,
        **sealed_document(
            cipher, TABLE, document_id, name=name, content_type=content_type, content=content
        ),
        uploaded_by=caller.name,
        created_at=now,
    )
    async with c.database.unit_of_work() as session:
        session.add(row)
        await c.audit.record(
            session,
            tenant_id=caller.tenant_id,
            actor=audit.AuditActor.of(caller.principal),
            entry=audit.Entry(
                action="dpa_document.upload",
                resource_type="dpa_document",
                resource_id=document_id,
                purpose=organization_id,
                request_id=request_id,
            ),
            now=now,
        )
    return DpaDocumentView(row, name)


async def list_documents(
    c: Components, caller: Caller, *, organization_id: str, now: datetime
) -> list[DpaDocumentView]:
    if not organization_id or not await c.dpa.is_subcontractor(caller.tenant_id, organization_id):
        raise NotFound("subcontractor organisation not found")
    async with c.database.unit_of_work() as session:
        rows = (
            await session.scalars(
                select(DpaDocument)
                .where(
                    DpaDocument.tenant_id == caller.tenant_id,
                    DpaDocument.organization_id == organization_id,
                )
                .order_by(DpaDocument.created_at, DpaDocument.id)
            )
        ).all()
    if not rows:
        return []
    cipher = await _organization_cipher(c, caller, organization_id, create=False, now=now)
    return [
        DpaDocumentView(row, cipher.open(TABLE, row.id, "filename", row.filename_ct))
        for row in rows
    ]


async def download(
    c: Components, caller: Caller, *, document_id: str, request_id: str, now: datetime
) -> tuple[DpaDocumentView, bytes]:
    async with c.database.unit_of_work() as session:
        row = await session.scalar(
            select(DpaDocument).where(
                DpaDocument.id == document_id, DpaDocument.tenant_id == caller.tenant_id
            )
        )
    if row is None:
        raise NotFound("document not found")
    cipher = await _organization_cipher(c, caller, row.organization_id, create=False, now=now)
    content = cipher.open_bytes(TABLE, row.id, "content", row.content_ct)
    filename = cipher.open(TABLE, row.id, "filename", row.filename_ct)
    async with c.database.unit_of_work() as session:
        await c.audit.record(
            session,
            tenant_id=caller.tenant_id,
            actor=audit.AuditActor.of(caller.principal),
            entry=audit.Entry(
                action="dpa_document.download",
                resource_type="dpa_document",
                resource_id=row.id,
                purpose=row.organization_id,
                request_id=request_id,
            ),
            now=now,
        )
    return DpaDocumentView(row, filename), content
