"""GDPR: export everything about a customer (Art. 15/20), erase it for good (Art. 17).

Erasure is crypto-shredding. The customer's wrapped data key, its blind-index
entries and its ciphertexts are deleted, leaving an anonymised stub (ids and
dates) so work history stays consistent. Then the tenant key is rotated, every
other customer's data key re-wrapped, and the older key versions destroyed in
Vault: a copy of the erased customer's wrapped key in a backup can never be
unwrapped again, not even by this service. A retry after a failure (Vault
down) repeats only what is left to do.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from customer_vault import audit, events
from customer_vault.access import Caller, load_customer
from customer_vault.components import Components
from customer_vault.crypto import CustomerCipher
from customer_vault.customers import decrypt as decrypt_customer
from customer_vault.grants import revoke_where
from customer_vault.keys import Erased
from customer_vault.models import AuditRecord, Contract, Customer, Grant, Site, SiteSecret
from customer_vault.site_secrets import TABLE as SECRETS_TABLE
from customer_vault.sites import TABLE as SITES_TABLE
from customer_vault.validation import required_text
from fieldvault_platform.db import as_utc

EXPORT_FORMAT = "fieldvault.customer_export.v1"


def _iso(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment is not None else None


def _site_document(site: Site, secrets: list[SiteSecret], cipher: CustomerCipher) -> dict[str, Any]:
    return {
        "id": site.id,
        "area_id": site.area_id,
        "name": cipher.open(SITES_TABLE, site.id, "name", site.name_ct),
        "address": cipher.open(SITES_TABLE, site.id, "address", site.address_ct),
        "access_instructions": cipher.open(
            SITES_TABLE, site.id, "access_instructions", site.access_instructions_ct
        ),
        "created_at": _iso(site.created_at),
        "secrets": [
            {
                "kind": secret.kind,
                "version": secret.version,
                "value": cipher.open(SECRETS_TABLE, secret.id, secret.kind, secret.value_ct),
                "written_by": secret.written_by,
                "written_at": _iso(secret.written_at),
            }
            for secret in secrets
            if secret.site_id == site.id
        ],
    }


def _audit_document(record: AuditRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "occurred_at": _iso(record.occurred_at),
        "actor_kind": record.actor_kind,
        "actor_id": record.actor_id,
        "actor_organization_id": record.actor_organization_id,
        "on_behalf_of": record.on_behalf_of,
        "action": record.action,
        "resource_type": record.resource_type,
        "resource_id": record.resource_id,
        "site_id": record.site_id,
        "fields": list(record.fields),
        "purpose": record.purpose,
        "outcome": record.outcome,
        "reason": record.reason,
    }


async def export_customer(
    c: Components, caller: Caller, *, customer_id: str, request_id: str, now: datetime
) -> bytes:
    async with c.database.unit_of_work() as session:
        customer = await load_customer(session, caller, customer_id)
        if customer.erased:
            raise Erased()
        sites = (await session.scalars(select(Site).where(Site.customer_id == customer.id))).all()
        site_ids = [site.id for site in sites]
        secrets = (
            await session.scalars(
                select(SiteSecret)
                .where(SiteSecret.site_id.in_(site_ids))
                .order_by(SiteSecret.kind, SiteSecret.version)
            )
        ).all()
        contracts = (
            await session.scalars(select(Contract).where(Contract.customer_id == customer.id))
        ).all()
        grants = (await session.scalars(select(Grant).where(Grant.site_id.in_(site_ids)))).all()
        history = (
            await session.scalars(
                select(AuditRecord)
                .where(
                    AuditRecord.tenant_id == caller.tenant_id,
                    or_(
                        AuditRecord.customer_id == customer.id,
                        AuditRecord.site_id.in_(site_ids),
                    ),
                )
                .order_by(AuditRecord.sequence)
            )
        ).all()
    view = await decrypt_customer(c, customer)
    cipher = await c.keys.cipher(customer)
    document = {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(now),
        "tenant_id": caller.tenant_id,
        "customer": {
            "id": customer.id,
            "area_id": customer.area_id,
            "name": view.name,
            "email": view.email,
            "phone": view.phone,
            "address": view.address,
            "notes": view.notes,
            "created_at": _iso(customer.created_at),
            "updated_at": _iso(customer.updated_at),
        },
        "sites": [_site_document(site, list(secrets), cipher) for site in sites],
        "contracts": [
            {
                "id": contract.id,
                "filename": cipher.open("contracts", contract.id, "filename", contract.filename_ct),
                "content_type": contract.content_type,
                "size": contract.size,
                "sha256": contract.sha256,
                "uploaded_by": contract.uploaded_by,
                "created_at": _iso(contract.created_at),
            }
            for contract in contracts
        ],
        "grants": [
            {
                "id": grant.id,
                "site_id": grant.site_id,
                "user_id": grant.user_id,
                "organization_id": grant.organization_id,
                "fields": list(grant.fields),
                "work_order_id": grant.work_order_id,
                "valid_from": _iso(grant.valid_from),
                "valid_until": _iso(grant.valid_until),
                "revoked_at": _iso(grant.revoked_at),
            }
            for grant in grants
        ],
        "access_history": [_audit_document(record) for record in history],
    }
    # Audited before the document leaves: no record, no export.
    async with c.database.unit_of_work() as session:
        await c.audit.record(
            session,
            tenant_id=caller.tenant_id,
            actor=audit.AuditActor.of(caller.principal),
            entry=audit.Entry(
                action="customer.export",
                resource_type="customer",
                resource_id=customer.id,
                customer_id=customer.id,
                request_id=request_id,
            ),
            now=now,
        )
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


async def erase_customer(
    c: Components,
    caller: Caller,
    *,
    customer_id: str,
    reason: str,
    request_id: str,
    now: datetime,
) -> datetime:
    reason = required_text("reason", reason, 500)
    async with c.database.unit_of_work() as session:
        customer = await load_customer(session, caller, customer_id)
        if not customer.erased:
            await _shred_rows(session, c.audit, caller, customer, reason, request_id, now)
        erased_at = as_utc(customer.erased_at or now)
    c.keys.forget(caller.tenant_id, customer_id)
    c.wake_relay()
    # Also on a retry: the destruction of old key versions may be what failed.
    await c.keys.shred_old_versions(c.database, caller.tenant_id)
    return erased_at


async def _shred_rows(
    session: AsyncSession,
    trail: audit.AuditTrail,
    caller: Caller,
    customer: Customer,
    reason: str,
    request_id: str,
    now: datetime,
) -> None:
    site_ids = list(
        (await session.scalars(select(Site.id).where(Site.customer_id == customer.id))).all()
    )
    for column in ("name_ct", "email_ct", "phone_ct", "address_ct", "notes_ct"):
        setattr(customer, column, None)
    customer.email_index = customer.phone_index = None
    customer.wrapped_key = None
    customer.erased_at = now
    customer.version += 1
    customer.updated_at = now
    await session.execute(
        update(Site)
        .where(Site.customer_id == customer.id)
        .values(name_ct=None, address_ct=None, access_instructions_ct=None, updated_at=now)
    )
    await session.execute(
        update(SiteSecret).where(SiteSecret.site_id.in_(site_ids)).values(value_ct=None)
    )
    await session.execute(
        update(Contract)
        .where(Contract.customer_id == customer.id)
        .values(content_ct=None, filename_ct=None)
    )
    actor = audit.AuditActor.of(caller.principal)
    await revoke_where(
        session,
        trail,
        caller.tenant_id,
        [Grant.site_id.in_(site_ids)],
        actor=actor,
        reason="customer_erased",
        now=now,
    )
    await trail.record(
        session,
        tenant_id=caller.tenant_id,
        actor=actor,
        entry=audit.Entry(
            action="customer.erase",
            resource_type="customer",
            resource_id=customer.id,
            customer_id=customer.id,
            reason=reason,
            request_id=request_id,
        ),
        now=now,
    )
    events.customer_erased(
        session,
        tenant_id=caller.tenant_id,
        customer_id=customer.id,
        site_ids=site_ids,
        at=now,
    )
