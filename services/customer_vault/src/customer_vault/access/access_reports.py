"""Who touched a customer's data, and who could have: answers from the audit trail and grants.

- **Customer access report** (DPO): every reveal (break-glass included),
  export and contract download of one customer's data — who, when, the work
  order or reason, the organisation. Asking for it is itself audited.
- **Site access query** (auditor, DPO; the breach question): for each code of
  a site and a time range, who *could* reveal it and who *did*.

"Could reveal" follows one rule (docs/security-model.md#gdpr):

1. every grantee of a grant for that site and code kind that was in force at
   some moment of the range — in force from ``max(valid_from, created_at)``
   until ``min(valid_until, revoked_at)``; an organisation-wide grant names the
   organisation, i.e. any of its technicians;
2. every active dispatcher whose areas include the site's area (break-glass);
3. every active DPO (an export with code values).

Points 2 and 3 are people as identity knows them *now*: identity keeps no
history of roles and areas, so the answer is who holds those powers when asked.
Neither report carries a code value or a customer's personal data.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Final

from sqlalchemy import and_, or_, select

from customer_vault import audit
from customer_vault.access.gdpr_export import EXPORT_ACTION, SECRET_VALUES_PURPOSE
from customer_vault.access.reveal import BREAK_GLASS_PURPOSE, REVEAL_ACTION
from customer_vault.components import Components
from customer_vault.models import AuditRecord, Customer, Grant, Site, SiteSecret
from customer_vault.records.contracts import DOWNLOAD_ACTION
from customer_vault.visibility import Caller, load_customer
from fieldvault_platform.db import as_utc
from fieldvault_platform.errors import InvalidArgument, NotFound

REPORT_FORMAT: Final = "fieldvault.customer_access_report.v1"
QUERY_FORMAT: Final = "fieldvault.site_access_query.v1"
REPORT_ACTION: Final = "customer.access_report"
#: The audit actions a customer's access report lists.
ACCESS_ACTIONS: Final = (REVEAL_ACTION, EXPORT_ACTION, DOWNLOAD_ACTION)
#: Purposes that are not a work order id.
_NOT_WORK_ORDERS: Final = frozenset({BREAK_GLASS_PURPOSE, SECRET_VALUES_PURPOSE})
#: Longest range a site access query may cover.
MAX_QUERY_DAYS: Final = 3660


def _iso(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment is not None else None


def _kind(record: AuditRecord) -> str:
    """What the access was, in the report's words."""
    if record.action == REVEAL_ACTION:
        return "break_glass" if record.break_glass else "reveal"
    if record.action == EXPORT_ACTION:
        return "export_with_values" if record.purpose == SECRET_VALUES_PURPOSE else "export"
    return "contract_download"


def _work_order(record: AuditRecord) -> str | None:
    purpose = record.purpose
    return purpose if purpose and purpose not in _NOT_WORK_ORDERS else None


def _access_entry(record: AuditRecord) -> dict[str, Any]:
    return {
        "audit_event_id": record.id,
        "occurred_at": _iso(record.occurred_at),
        "access": _kind(record),
        "action": record.action,
        "outcome": record.outcome,
        "site_id": record.site_id,
        "resource_id": record.resource_id,
        "fields": list(record.fields),
        "actor_kind": record.actor_kind,
        "actor_id": record.actor_id,
        "actor_organization_id": record.actor_organization_id,
        "on_behalf_of": record.on_behalf_of,
        "work_order_id": _work_order(record),
        "purpose": record.purpose,
        "reason": record.reason,
    }


async def customer_access_report(
    c: Components,
    caller: Caller,
    *,
    customer_id: str,
    since: datetime | None,
    until: datetime | None,
    request_id: str,
    now: datetime,
) -> bytes:
    """Every access to one customer's data, oldest first, as a UTF-8 JSON document."""
    if since is not None and until is not None and since >= until:
        raise InvalidArgument("since must be before until")
    async with c.database.unit_of_work() as session:
        customer = await load_customer(session, caller, customer_id)
        query = select(AuditRecord).where(
            AuditRecord.tenant_id == caller.tenant_id,
            AuditRecord.customer_id == customer.id,
            AuditRecord.action.in_(ACCESS_ACTIONS),
        )
        if since is not None:
            query = query.where(AuditRecord.occurred_at >= since)
        if until is not None:
            query = query.where(AuditRecord.occurred_at < until)
        records = (await session.scalars(query.order_by(AuditRecord.sequence))).all()
        erased = customer.erased
    document = {
        "format": REPORT_FORMAT,
        "generated_at": _iso(now),
        "tenant_id": caller.tenant_id,
        "customer_id": customer.id,
        "customer_erased": erased,
        "since": _iso(since),
        "until": _iso(until),
        "entries": [_access_entry(record) for record in records],
    }
    async with c.database.unit_of_work() as session:
        await c.audit.record(
            session,
            tenant_id=caller.tenant_id,
            actor=audit.AuditActor.of(caller.principal),
            entry=audit.Entry(
                action=REPORT_ACTION,
                resource_type="customer",
                resource_id=customer.id,
                customer_id=customer.id,
                request_id=request_id,
            ),
            now=now,
        )
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


# --- the breach question ----------------------------------------------------------


def in_force_during(
    *,
    valid_from: datetime,
    valid_until: datetime,
    created_at: datetime,
    revoked_at: datetime | None,
    range_from: datetime,
    range_to: datetime,
) -> bool:
    """Whether a grant let its grantee reveal at some moment of ``[range_from, range_to)``."""
    start = max(as_utc(valid_from), as_utc(created_at))
    end = as_utc(valid_until)
    if revoked_at is not None:
        end = min(end, as_utc(revoked_at))
    return start < end and start < as_utc(range_to) and end > as_utc(range_from)


def _grant_entry(grant: Grant) -> dict[str, Any]:
    return {
        "grant_id": grant.id,
        "user_id": grant.user_id,
        "organization_id": grant.organization_id,
        "whole_organization": grant.user_id is None,
        "subcontractor": grant.subcontractor,
        "work_order_id": grant.work_order_id,
        "valid_from": _iso(grant.valid_from),
        "valid_until": _iso(grant.valid_until),
        "revoked_at": _iso(grant.revoked_at),
    }


def _reveal_entry(record: AuditRecord) -> dict[str, Any]:
    return {
        "audit_event_id": record.id,
        "occurred_at": _iso(record.occurred_at),
        "access": _kind(record),
        "actor_id": record.actor_id,
        "actor_organization_id": record.actor_organization_id,
        "on_behalf_of": record.on_behalf_of,
        "work_order_id": _work_order(record),
        "reason": record.reason if record.break_glass else None,
    }


async def query_site_access(
    c: Components,
    caller: Caller,
    *,
    site_id: str,
    range_from: datetime | None,
    range_to: datetime | None,
    now: datetime,
) -> bytes:
    """Who could and who did reveal each code of a site in ``[range_from, range_to)``."""
    if range_from is None or range_to is None:
        raise InvalidArgument("from and to are both required")
    if range_from >= range_to:
        raise InvalidArgument("from must be before to")
    if (range_to - range_from).days > MAX_QUERY_DAYS:
        raise InvalidArgument(f"the range may cover at most {MAX_QUERY_DAYS} days")
    async with c.database.unit_of_work() as session:
        # Tenant-wide, as the audit trail is to its readers (auditors see no site otherwise).
        found = (
            await session.execute(
                select(Site, Customer)
                .join(Customer, Customer.id == Site.customer_id)
                .where(Site.id == site_id, Site.tenant_id == caller.tenant_id)
            )
        ).first()
        if found is None:
            raise NotFound("site not found")
        site, customer = found
        kinds = set(
            (
                await session.scalars(
                    select(SiteSecret.kind)
                    .where(SiteSecret.site_id == site.id, SiteSecret.written_at < range_to)
                    .distinct()
                )
            ).all()
        )
        grants = (
            await session.scalars(
                select(Grant)
                .where(
                    Grant.tenant_id == caller.tenant_id,
                    Grant.site_id == site.id,
                    Grant.valid_from < range_to,
                    Grant.valid_until > range_from,
                )
                .order_by(Grant.created_at, Grant.id)
            )
        ).all()
        revealed = (
            await session.scalars(
                select(AuditRecord)
                .where(
                    AuditRecord.tenant_id == caller.tenant_id,
                    AuditRecord.outcome == audit.SUCCESS,
                    AuditRecord.occurred_at >= range_from,
                    AuditRecord.occurred_at < range_to,
                    or_(
                        and_(
                            AuditRecord.action == REVEAL_ACTION,
                            AuditRecord.site_id == site.id,
                        ),
                        and_(
                            AuditRecord.action == EXPORT_ACTION,
                            AuditRecord.customer_id == customer.id,
                            AuditRecord.purpose == SECRET_VALUES_PURPOSE,
                        ),
                    ),
                )
                .order_by(AuditRecord.sequence)
            )
        ).all()
    in_force = [
        grant
        for grant in grants
        if in_force_during(
            valid_from=grant.valid_from,
            valid_until=grant.valid_until,
            created_at=grant.created_at,
            revoked_at=grant.revoked_at,
            range_from=range_from,
            range_to=range_to,
        )
    ]
    for grant in in_force:
        kinds.update(grant.fields)
    for record in revealed:
        if record.action == REVEAL_ACTION:
            kinds.update(record.fields)
    dispatchers = [
        user
        for user in await c.dpa.list_users(caller.tenant_id, role="dispatcher")
        if site.area_id in user.area_ids
    ]
    dpos = await c.dpa.list_users(caller.tenant_id, role="dpo")
    document = {
        "format": QUERY_FORMAT,
        "generated_at": _iso(now),
        "tenant_id": caller.tenant_id,
        "site_id": site.id,
        "customer_id": customer.id,
        "area_id": site.area_id,
        "from": _iso(range_from),
        "to": _iso(range_to),
        "codes": [
            {
                "kind": kind,
                "could_reveal": {
                    "grants": [_grant_entry(g) for g in in_force if kind in g.fields],
                    "break_glass": [
                        {"user_id": u.id, "organization_id": u.organization_id} for u in dispatchers
                    ],
                    "export_with_values": [
                        {"user_id": u.id, "organization_id": u.organization_id} for u in dpos
                    ],
                },
                "did_reveal": [
                    _reveal_entry(record) for record in revealed if kind in record.fields
                ],
            }
            for kind in sorted(kinds)
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode()
