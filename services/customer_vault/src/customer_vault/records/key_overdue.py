"""Overdue physical keys: not back by the end of the job's grant plus a grace period.

A sweep (every ``KEY_OVERDUE_CHECK_SECONDS`` on each replica, or
``python -m customer_vault alert-overdue-keys``) finds open check-outs whose
grant ended — its window closed, or the job was completed, cancelled or given
back and the grant revoked — more than ``KEY_RETURN_GRACE_MINUTES`` ago. Each
is marked with a conditional update (``overdue_alerted_at IS NULL``), audited
and announced as ``key_overdue`` in the same transaction, so however many
replicas sweep at once a check-out alerts exactly once; notification tells the
dispatchers of the site's area.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from customer_vault import audit, events
from customer_vault.models import Grant, KeyCheckout, PhysicalKey, Site
from fieldvault_platform.db import Database, as_utc

BATCH = 100


def grant_end(grant: Grant) -> datetime:
    """When the job's access ended or ends: its window, or the revocation if earlier."""
    end = as_utc(grant.valid_until)
    if grant.revoked_at is not None:
        end = min(end, as_utc(grant.revoked_at))
    return end


async def alert_overdue_keys(
    database: Database, trail: audit.AuditTrail, *, grace: timedelta, now: datetime
) -> int:
    """One sweep: how many check-outs became overdue (and were announced) by this caller."""
    cutoff = now - grace
    async with database.unit_of_work() as session:
        due = (
            await session.execute(
                select(KeyCheckout.id, KeyCheckout.tenant_id)
                .join(Grant, Grant.id == KeyCheckout.grant_id)
                .where(
                    KeyCheckout.closed_at.is_(None),
                    KeyCheckout.overdue_alerted_at.is_(None),
                    or_(
                        Grant.valid_until <= cutoff,
                        and_(Grant.revoked_at.is_not(None), Grant.revoked_at <= cutoff),
                    ),
                )
                .order_by(KeyCheckout.checked_out_at, KeyCheckout.id)
                .limit(BATCH)
            )
        ).all()
    alerted = 0
    for checkout_id, tenant_id in due:
        async with database.unit_of_work() as session:
            await audit.lock_chain(session, tenant_id)
            claimed = await session.execute(
                update(KeyCheckout)
                .where(
                    KeyCheckout.id == checkout_id,
                    KeyCheckout.closed_at.is_(None),
                    KeyCheckout.overdue_alerted_at.is_(None),
                )
                .values(overdue_alerted_at=now)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                continue  # returned meanwhile, or another replica announced it
            row = (
                await session.execute(
                    select(KeyCheckout, PhysicalKey, Grant, Site.area_id)
                    .join(PhysicalKey, PhysicalKey.id == KeyCheckout.key_id)
                    .join(Grant, Grant.id == KeyCheckout.grant_id)
                    .join(Site, Site.id == KeyCheckout.site_id)
                    .where(KeyCheckout.id == checkout_id)
                )
            ).one()
            checkout, key, grant, area_id = row
            due_at = grant_end(grant) + grace
            await trail.record(
                session,
                tenant_id=tenant_id,
                actor=audit.SYSTEM,
                entry=audit.Entry(
                    action="key.overdue",
                    resource_type="physical_key",
                    resource_id=key.id,
                    customer_id=key.customer_id,
                    site_id=key.site_id,
                    fields=[key.kind],
                    purpose=checkout.work_order_id,
                ),
                now=now,
            )
            events.key_overdue(
                session,
                tenant_id=tenant_id,
                key_id=key.id,
                checkout_id=checkout.id,
                site_id=key.site_id,
                area_id=area_id,
                user_id=checkout.user_id,
                work_order_id=checkout.work_order_id,
                due_at=due_at,
                at=now,
            )
            alerted += 1
    return alerted
