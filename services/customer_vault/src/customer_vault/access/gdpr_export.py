"""GDPR export (Art. 15/20): everything held about a customer, including who accessed it.

An export must not be a silent route around reveal. By default it lists the
codes by kind, version, author and date without their values. A DPO who needs
the values asks for them with a reason; such an export is refused beyond
``EXPORT_VALUES_RATE_LIMIT`` per DPO per ``EXPORT_VALUES_RATE_WINDOW_SECONDS``
(counted from the audit trail, so across replicas), audited with the kinds it
revealed and the reason, and announced to the auditors like a break-glass
reveal (``secret_values_exported``: ids and kinds, never the reason or a value).
Every export is audited before the document leaves: no record, no export.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from customer_vault import audit, events
from customer_vault.components import Components
from customer_vault.crypto import CustomerCipher
from customer_vault.keys import Erased
from customer_vault.models import AuditRecord, Contract, Customer, Grant, Site, SiteSecret
from customer_vault.records.customers import decrypt as decrypt_customer
from customer_vault.records.site_secrets import open_secret
from customer_vault.records.sites import TABLE as SITES_TABLE
from customer_vault.visibility import Caller, load_customer
from fieldvault_platform.db import as_utc
from fieldvault_platform.errors import InvalidArgument, ResourceExhausted

EXPORT_FORMAT = "fieldvault.customer_export.v1"
EXPORT_ACTION = "customer.export"
#: The audit purpose of an export that carried code values (what the rate limit counts).
SECRET_VALUES_PURPOSE = "secret_values"  # noqa: S105 (a purpose, not a secret)
MAX_REASON_LENGTH = 500


def _iso(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment is not None else None


@dataclass
class _Holdings:
    customer: Customer
    sites: list[Site]
    secrets: list[SiteSecret]
    contracts: list[Contract]
    grants: list[Grant]
    history: list[AuditRecord]
    #: Exports with values this DPO made in the rate window (None: values not asked for).
    values_exports: int | None = None


def _check_reason(c: Components, include_secret_values: bool, reason: str) -> str:
    reason = reason.strip()
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidArgument(f"reason must be at most {MAX_REASON_LENGTH} characters")
    minimum = c.settings.break_glass_min_reason_length
    if include_secret_values and len(reason) < minimum:
        raise InvalidArgument(
            f"exporting the values of codes needs a reason of at least {minimum} characters"
        )
    return reason


async def _gather(
    c: Components, caller: Caller, customer_id: str, include_secret_values: bool, now: datetime
) -> _Holdings:
    async with c.database.unit_of_work() as session:
        customer = await load_customer(session, caller, customer_id)
        if customer.erased:
            raise Erased()
        sites = list(
            (await session.scalars(select(Site).where(Site.customer_id == customer.id))).all()
        )
        site_ids = [site.id for site in sites]
        held = _Holdings(
            customer=customer,
            sites=sites,
            secrets=list(
                (
                    await session.scalars(
                        select(SiteSecret)
                        .where(SiteSecret.site_id.in_(site_ids))
                        .order_by(SiteSecret.kind, SiteSecret.version)
                    )
                ).all()
            ),
            contracts=list(
                (
                    await session.scalars(
                        select(Contract).where(Contract.customer_id == customer.id)
                    )
                ).all()
            ),
            grants=list(
                (await session.scalars(select(Grant).where(Grant.site_id.in_(site_ids)))).all()
            ),
            history=list(
                (
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
            ),
        )
        if include_secret_values:
            window = timedelta(seconds=c.settings.export_values_rate_window_seconds)
            held.values_exports = (
                await session.scalar(
                    select(func.count())
                    .select_from(AuditRecord)
                    .where(
                        AuditRecord.tenant_id == caller.tenant_id,
                        AuditRecord.actor_id == caller.principal.subject,
                        AuditRecord.action == EXPORT_ACTION,
                        AuditRecord.purpose == SECRET_VALUES_PURPOSE,
                        AuditRecord.occurred_at > now - window,
                    )
                )
            ) or 0
    return held


def _secret_document(
    secret: SiteSecret, cipher: CustomerCipher, include_value: bool
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "kind": secret.kind,
        "version": secret.version,
        "written_by": secret.written_by,
        "written_at": _iso(secret.written_at),
    }
    if include_value:
        document["value"] = open_secret(cipher, secret)
    return document


def _site_document(
    site: Site, secrets: list[SiteSecret], cipher: CustomerCipher, include_values: bool
) -> dict[str, Any]:
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
            _secret_document(secret, cipher, include_values)
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


async def _document(
    c: Components, caller: Caller, held: _Holdings, include_values: bool, now: datetime
) -> dict[str, Any]:
    customer = held.customer
    view = await decrypt_customer(c, customer)
    cipher = await c.keys.cipher(customer)
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(now),
        "tenant_id": caller.tenant_id,
        "secret_values_included": include_values,
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
        "sites": [
            _site_document(site, held.secrets, cipher, include_values) for site in held.sites
        ],
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
            for contract in held.contracts
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
            for grant in held.grants
        ],
        "access_history": [_audit_document(record) for record in held.history],
    }


async def _refuse_over_rate(
    c: Components, caller: Caller, customer_id: str, request_id: str, now: datetime
) -> None:
    """Audit the refused attempt, then answer RESOURCE_EXHAUSTED."""
    async with c.database.unit_of_work() as session:
        await c.audit.record(
            session,
            tenant_id=caller.tenant_id,
            actor=audit.AuditActor.of(caller.principal),
            entry=audit.Entry(
                action=EXPORT_ACTION,
                resource_type="customer",
                resource_id=customer_id,
                customer_id=customer_id,
                purpose=SECRET_VALUES_PURPOSE,
                outcome=audit.DENIED,
                reason="rate_limited",
                denial_code="rate_limited",
                request_id=request_id,
            ),
            now=now,
        )
    raise ResourceExhausted(
        "too many exports with code values; try again later",
        retry_after_seconds=c.settings.export_values_rate_window_seconds,
    )


async def export_customer(
    c: Components,
    caller: Caller,
    *,
    customer_id: str,
    include_secret_values: bool,
    reason: str,
    request_id: str,
    now: datetime,
) -> bytes:
    reason = _check_reason(c, include_secret_values, reason)
    held = await _gather(c, caller, customer_id, include_secret_values, now)
    if (held.values_exports or 0) >= c.settings.export_values_rate_limit:
        await _refuse_over_rate(c, caller, held.customer.id, request_id, now)
    document = await _document(c, caller, held, include_secret_values, now)
    revealed = sorted({s.kind for s in held.secrets if s.value_ct is not None})
    revealed = revealed if include_secret_values else []
    async with c.database.unit_of_work() as session:
        record = await c.audit.record(
            session,
            tenant_id=caller.tenant_id,
            actor=audit.AuditActor.of(caller.principal),
            entry=audit.Entry(
                action=EXPORT_ACTION,
                resource_type="customer",
                resource_id=held.customer.id,
                customer_id=held.customer.id,
                fields=revealed,
                purpose=SECRET_VALUES_PURPOSE if include_secret_values else None,
                reason=reason or None,
                request_id=request_id,
            ),
            now=now,
        )
        if revealed:
            events.secret_values_exported(
                session,
                tenant_id=caller.tenant_id,
                audit_event_id=record.id,
                user_id=caller.principal.subject,
                customer_id=held.customer.id,
                kinds=revealed,
                at=now,
            )
    if revealed:
        c.wake_relay()
    return json.dumps(document, ensure_ascii=False, indent=2).encode()
