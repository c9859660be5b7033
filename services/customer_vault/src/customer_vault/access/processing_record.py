"""The tenant's record of processing activities (GDPR Art. 30), built from what the system knows.

Most of an Art. 30 record is what fieldvault *is*: the purposes, the
categories of people and data, the technical measures. Those are fixed here,
as data. What varies per tenant is read when the record is asked for: how many
records of each category are held (customer_vault's tables), the
subcontractors with their DPA dates (identity) and their signed DPA documents
(here), and the platform's sub-processors (``SUB_PROCESSORS`` setting).

The record names no customer, no person and holds no value: counts,
organisation names and ids, dates, document hashes.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select

from customer_vault.access import retention_record
from customer_vault.components import Components
from customer_vault.models import (
    AuditRecord,
    Contract,
    Customer,
    DpaDocument,
    Grant,
    Site,
    SiteSecret,
)
from customer_vault.visibility import Caller
from fieldvault.identity.v1 import identity_pb2
from fieldvault_platform.db import as_utc

FORMAT: Final = "fieldvault.processing_record.v1"

PURPOSES: Final = (
    {
        "purpose": "maintenance_work",
        "description": "Planning, assigning and doing maintenance work at customers' sites.",
        "legal_basis": "contract with the customer (Art. 6(1)(b))",
    },
    {
        "purpose": "site_access",
        "description": (
            "Letting the assigned technician into a site: door, alarm and key-safe codes, "
            "revealed only for an active job."
        ),
        "legal_basis": "contract with the customer (Art. 6(1)(b))",
    },
    {
        "purpose": "accountability",
        "description": (
            "Proving who accessed which data, when and why: the audit trail, access reports."
        ),
        "legal_basis": "legal obligation (Art. 6(1)(c)), Art. 5(2) and Art. 32",
    },
)

DATA_SUBJECTS: Final = (
    {
        "category": "customers",
        "description": "The company's customers and their contact persons.",
    },
    {
        "category": "staff",
        "description": "The company's own people who use fieldvault (office and field).",
    },
    {
        "category": "subcontractor_staff",
        "description": "People of subcontractor organisations who do assigned work.",
    },
)

#: Data categories: what, about whom, and where it is kept.
DATA_CATEGORIES: Final = (
    {
        "category": "customer_contact_data",
        "subjects": "customers",
        "description": "name, e-mail, phone, address, notes",
        "protection": "AES-256-GCM per field under a per-customer data key",
    },
    {
        "category": "site_data",
        "subjects": "customers",
        "description": "site name, address, access instructions",
        "protection": "AES-256-GCM per field under the customer's data key",
    },
    {
        "category": "site_access_codes",
        "subjects": "customers",
        "description": "door, alarm and key-safe codes, with every earlier version",
        "protection": "AES-256-GCM bound to the site; shown only by an audited reveal",
    },
    {
        "category": "contracts",
        "subjects": "customers",
        "description": "contract documents uploaded by the office",
        "protection": "AES-256-GCM under the customer's data key; downloads audited",
    },
    {
        "category": "grants",
        "subjects": "staff, subcontractor_staff",
        "description": "who may reveal which codes of a site, for which work order, when",
        "protection": "tenant-scoped; changed only by work order events",
    },
    {
        "category": "audit_trail",
        "subjects": "staff, subcontractor_staff, customers (by id)",
        "description": "every write, reveal, refusal, download, export and erasure",
        "protection": "append-only, hash-chained, head MAC'd in Vault Transit",
    },
    {
        "category": "user_accounts",
        "subjects": "staff, subcontractor_staff",
        "description": "name, e-mail, roles, areas, organisation, sign-in factors",
        "protection": "passwords as argon2 hashes; TOTP seeds as Vault Transit ciphertext",
    },
)


def _technical_measures(c: Components) -> list[dict[str, str]]:
    s = c.settings
    return [
        {
            "measure": "encryption",
            "description": (
                "Envelope encryption: a key-encryption key per tenant in Vault Transit that "
                "never leaves Vault; a data key per customer, stored only wrapped; every "
                "personal field, code and document AES-256-GCM with associated data binding "
                "tenant, customer, record and field. Exact-match search through keyed blind "
                "indexes; codes have no index of any kind."
            ),
        },
        {
            "measure": "access_model",
            "description": (
                "Roles map to scopes checked by the service owning the data. A code is shown "
                "only to the person holding an active grant for that site and code kind, "
                "created by the work order assignment and revoked when the job ends; "
                "dispatchers reveal only by audited break-glass with a stated reason and a "
                f"fresh second factor; at most {s.reveal_rate_limit} reveal attempts per user "
                f"per {s.reveal_rate_window_seconds} s; a grant lasts at most "
                f"{s.max_grant_days} days. No DPA, no access for subcontractors."
            ),
        },
        {
            "measure": "audit",
            "description": (
                "Every write, reveal, refusal, contract download, export and erasure is an "
                "append-only, hash-chained audit record whose chain head is MAC'd in Vault; "
                "auditors verify the chain; break-glass reveals and exports with code values "
                "alert the auditors."
            ),
        },
        {
            "measure": "authentication",
            "description": (
                "Short-lived signed tokens exchanged per service; second factor (TOTP) for "
                "admins, auditors and DPOs by default; revocation reaches every service "
                "within a second."
            ),
        },
        {
            "measure": "erasure",
            "description": (
                "Erasure is crypto-shredding: the customer's data key is destroyed and the "
                "tenant key rotated so backups cannot be decrypted either."
            ),
        },
    ]


async def _counts(c: Components, tenant_id: str) -> dict[str, int]:
    async def count(model: Any, *where: Any) -> int:
        return int(
            await session.scalar(
                select(func.count()).select_from(model).where(model.tenant_id == tenant_id, *where)
            )
            or 0
        )

    async with c.database.unit_of_work() as session:
        return {
            "customers": await count(Customer, Customer.erased_at.is_(None)),
            "erased_customers": await count(Customer, Customer.erased_at.is_not(None)),
            "sites": await count(Site),
            "site_access_codes": int(
                await session.scalar(
                    select(func.count()).select_from(
                        select(SiteSecret.site_id, SiteSecret.kind)
                        .where(SiteSecret.tenant_id == tenant_id, SiteSecret.value_ct.is_not(None))
                        .distinct()
                        .subquery()
                    )
                )
                or 0
            ),
            "contracts": await count(Contract),
            "grants": await count(Grant),
            "audit_records": await count(AuditRecord),
        }


async def _dpa_documents(c: Components, tenant_id: str) -> dict[str, list[dict[str, Any]]]:
    async with c.database.unit_of_work() as session:
        rows = (
            await session.scalars(
                select(DpaDocument)
                .where(DpaDocument.tenant_id == tenant_id)
                .order_by(DpaDocument.created_at)
            )
        ).all()
    documents: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        documents.setdefault(row.organization_id, []).append(
            {
                "id": row.id,
                "content_type": row.content_type,
                "size": row.size,
                "sha256": row.sha256,
                "uploaded_at": as_utc(row.created_at).isoformat(),
            }
        )
    return documents


def _subcontractor(
    organization: identity_pb2.Organization,
    documents: list[dict[str, Any]],
    people: int,
) -> dict[str, Any]:
    return {
        "organization_id": organization.id,
        "name": organization.name,
        "dpa_signed_on": organization.dpa_signed_on or None,
        "dpa_expires_on": organization.dpa_expires_on or None,
        "dpa_active": organization.dpa_active,
        "dpa_document_id": organization.dpa_document_id or None,
        "dpa_documents": documents,
        "active_users": people,
    }


async def processing_record(c: Components, caller: Caller, *, now: datetime) -> bytes:
    """The Art. 30 record of the caller's tenant, as a UTF-8 JSON document."""
    caller.principal.require_scope("processing_record:read")
    tenant_id = caller.tenant_id
    organizations = await c.dpa.list_organizations(tenant_id)
    users = await c.dpa.list_users(tenant_id)
    people = Counter(user.organization_id for user in users)
    documents = await _dpa_documents(c, tenant_id)
    held = await _counts(c, tenant_id)
    subcontractor = identity_pb2.ORGANIZATION_KIND_SUBCONTRACTOR
    own = [org for org in organizations if org.kind != subcontractor]
    async with c.database.unit_of_work() as session:
        source, periods = await retention_record.retention_periods(session, tenant_id)
    document = {
        "format": FORMAT,
        "generated_at": as_utc(now).isoformat(),
        "tenant_id": tenant_id,
        "controller": {
            "organization_id": own[0].id if own else None,
            "name": own[0].name if own else None,
        },
        "purposes": list(PURPOSES),
        "data_subjects": [
            {**subject, "held": _subjects_held(subject["category"], held, people, own)}
            for subject in DATA_SUBJECTS
        ],
        "data_categories": [
            {**category, "held": held.get(str(category["category"]))}
            for category in DATA_CATEGORIES
        ],
        "processors": {
            "subcontractors": [
                _subcontractor(org, documents.get(org.id, []), people.get(org.id, 0))
                for org in sorted(organizations, key=lambda o: (o.name.casefold(), o.id))
                if org.kind == subcontractor
            ],
            "sub_processors": [p.model_dump() for p in c.settings.sub_processors],
        },
        "retention": {
            "source": source,
            "periods": [{"data": p.data, "period": p.period, "rule": p.rule} for p in periods],
        },
        "technical_measures": _technical_measures(c),
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def _subjects_held(
    category: str,
    held: dict[str, int],
    people: Counter[str],
    own: list[identity_pb2.Organization],
) -> int:
    own_ids = {org.id for org in own}
    if category == "customers":
        return held["customers"]
    if category == "staff":
        return sum(n for org, n in people.items() if org in own_ids)
    return sum(n for org, n in people.items() if org not in own_ids)
