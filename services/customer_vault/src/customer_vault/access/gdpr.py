"""GDPR erasure (Art. 17); the export (Art. 15/20) is :mod:`customer_vault.access.gdpr_export`.

Erasure is crypto-shredding. The customer's wrapped data key, its blind-index
entries, its ciphertexts and its contracts' sizes and hashes are deleted,
leaving an anonymised stub (ids and dates) so work history stays consistent.
Then the tenant key is rotated, every other customer's data key re-wrapped,
and the older key versions destroyed in Vault: a copy of the erased
customer's wrapped key in a backup can never be unwrapped again, not even by
this service. A retry after a failure (Vault down) repeats only what is left
to do.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from customer_vault import audit, events
from customer_vault.access.grants import revoke_where
from customer_vault.components import Components
from customer_vault.models import Contract, Customer, Grant, Site, SiteSecret
from customer_vault.validation import required_text
from customer_vault.visibility import Caller, load_customer
from fieldvault_platform import limits
from fieldvault_platform.db import as_utc


async def erase_customer(
    c: Components,
    caller: Caller,
    *,
    customer_id: str,
    reason: str,
    request_id: str,
    now: datetime,
) -> datetime:
    reason = required_text("reason", reason, limits.AUDIT_REASON)
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
    customer.email_index = customer.phone_index = customer.name_index = None
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
        .values(content_ct=None, filename_ct=None, size=None, sha256=None)
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
