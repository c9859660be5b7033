"""The physical key register: keys, fobs and cards the company holds for a site.

- The office (dispatchers of the site's area, admins) registers a key; its tag
  code is generated here, shown once and stored only as a keyed blind index,
  so a found tag leads to its site only through this service.
- A key is checked out to a technician only while they hold an active grant
  (a job) at the key's site; it is checked in by the office or its holder.
- A key not back by the end of the job's grant plus a grace period is overdue
  (:mod:`customer_vault.records.key_overdue` tells the dispatchers of the area).
- A lost key opens a "change the lock" rotation task.
- A scanned tag tells dispatchers of the site's area and admins which site the
  key opens; anyone else is told "not found", like for another tenant's key
  (:mod:`customer_vault.records.key_lookup`, with "my keys"; shared pieces in
  :mod:`customer_vault.records.key_views`).

Every movement — and every refused check-out or scan — is in the audit chain.
All of a tenant's key movements serialise on its audit chain head.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from customer_vault import audit
from customer_vault.components import Components
from customer_vault.models import DirectoryUser, Grant, KeyCheckout, PhysicalKey, Site
from customer_vault.records.key_tasks import open_change_the_lock_task
from customer_vault.records.key_views import (
    CHECKED_OUT,
    IN_OFFICE,
    KINDS,
    LABEL_LIMIT,
    LIST_LIMIT,
    LOST,
    NO_ACTIVE_GRANT,
    RETURNED,
    TABLE,
    KeyView,
    key_entry,
    load_view,
    load_views,
    office_only,
    open_checkout,
    owner_of,
    record_movement,
)
from customer_vault.records.tag_codes import new_tag_code, normalise_tag_code
from customer_vault.validation import optional_text
from customer_vault.visibility import Caller, Reach, load_site, require_area
from fieldvault_platform.auth import PrincipalKind
from fieldvault_platform.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)


async def register_key(
    c: Components,
    caller: Caller,
    *,
    site_id: str,
    kind: str,
    label: str,
    request_id: str,
    now: datetime,
) -> tuple[KeyView, str]:
    """A new key of the site, and its tag code (to print; never stored in the clear)."""
    office_only(caller)
    if kind not in KINDS:
        raise InvalidArgument(f"kind must be one of: {', '.join(KINDS)}")
    label = optional_text("label", label, LABEL_LIMIT)
    async with c.database.unit_of_work() as session:
        site, customer = await load_site(session, caller, site_id, now)
        require_area(caller, site.area_id)
    cipher = await c.keys.cipher(customer)  # Erased for an erased customer
    tag_code = new_tag_code()
    tag_index = await c.blind_index.key_tag(caller.tenant_id, normalise_tag_code(tag_code))
    key_id = str(uuid.uuid4())
    row = PhysicalKey(
        id=key_id,
        tenant_id=caller.tenant_id,
        site_id=site.id,
        customer_id=customer.id,
        kind=kind,
        label_ct=(
            cipher.seal(TABLE, key_id, "label", label, owner=owner_of(site.id)) if label else None
        ),
        tag_index=tag_index,
        status=IN_OFFICE,
        version=1,
        created_by=caller.name,
        created_at=now,
    )
    async with c.database.unit_of_work() as session:
        session.add(row)
        await session.flush()
        await record_movement(c, session, caller, key_entry("key.register", row, request_id), now)
    return KeyView(row, label), tag_code


async def list_site_keys(
    c: Components, caller: Caller, *, site_id: str, now: datetime
) -> list[KeyView]:
    office_only(caller)
    async with c.database.unit_of_work() as session:
        site, _customer = await load_site(session, caller, site_id, now)
        require_area(caller, site.area_id)
        key_ids = (
            await session.scalars(
                select(PhysicalKey.id)
                .where(PhysicalKey.tenant_id == caller.tenant_id, PhysicalKey.site_id == site.id)
                .order_by(PhysicalKey.created_at, PhysicalKey.id)
                .limit(LIST_LIMIT)
            )
        ).all()
    return await load_views(c, list(key_ids))


async def _office_key(
    session: AsyncSession, caller: Caller, key_id: str, now: datetime
) -> tuple[PhysicalKey, Site]:
    """A key the office caller may handle (their area, or an admin's tenant)."""
    key = await session.scalar(
        select(PhysicalKey).where(
            PhysicalKey.id == key_id, PhysicalKey.tenant_id == caller.tenant_id
        )
    )
    if key is None:
        raise NotFound("key not found")
    site, _customer = await load_site(session, caller, key.site_id, now)
    require_area(caller, site.area_id)
    return key, site


async def _handled_key(
    session: AsyncSession, caller: Caller, key_id: str, now: datetime
) -> PhysicalKey:
    """The office's key, or the key the calling technician holds; else not found."""
    if caller.principal.kind is PrincipalKind.USER and caller.reach is Reach.GRANTS:
        key = await session.scalar(
            select(PhysicalKey)
            .join(KeyCheckout, KeyCheckout.key_id == PhysicalKey.id)
            .where(
                PhysicalKey.id == key_id,
                PhysicalKey.tenant_id == caller.tenant_id,
                KeyCheckout.closed_at.is_(None),
                KeyCheckout.user_id == caller.user_id,
            )
        )
        if key is None:
            raise NotFound("key not found")
        return key
    office_only(caller)
    key, _site = await _office_key(session, caller, key_id, now)
    return key


def _active_grants_of(
    tenant_id: str, *, site_id: str, user_id: str, work_order_id: str, now: datetime
) -> Select[tuple[Grant]]:
    query = select(Grant).where(
        Grant.tenant_id == tenant_id,
        Grant.site_id == site_id,
        Grant.user_id == user_id,
        Grant.revoked_at.is_(None),
        Grant.valid_from <= now,
        Grant.valid_until > now,
    )
    if work_order_id:
        query = query.where(Grant.work_order_id == work_order_id)
    return query.order_by(Grant.valid_until.desc(), Grant.id)


async def _subcontractors_with_active_dpa(
    c: Components, tenant_id: str, *, key_id: str, user_id: str, work_order_id: str, now: datetime
) -> frozenset[str]:
    """Which subcontractors among the technician's grants at the key's site have an active
    DPA — asked of identity before the check-out's transaction takes the chain lock."""
    async with c.database.unit_of_work() as session:
        site_id = await session.scalar(
            select(PhysicalKey.site_id).where(
                PhysicalKey.id == key_id, PhysicalKey.tenant_id == tenant_id
            )
        )
        if site_id is None:
            return frozenset()
        grants = (
            await session.scalars(
                _active_grants_of(
                    tenant_id,
                    site_id=site_id,
                    user_id=user_id,
                    work_order_id=work_order_id,
                    now=now,
                )
            )
        ).all()
    organizations = {grant.organization_id for grant in grants if grant.subcontractor}
    return frozenset(
        [org for org in sorted(organizations) if await c.dpa.is_active(tenant_id, org)]
    )


async def _usable_grant(
    session: AsyncSession,
    tenant_id: str,
    *,
    site_id: str,
    user_id: str,
    work_order_id: str,
    now: datetime,
    dpa_active: frozenset[str],
) -> Grant | None:
    """An active grant naming the technician at the site (a subcontractor's: DPA active)."""
    query = _active_grants_of(
        tenant_id, site_id=site_id, user_id=user_id, work_order_id=work_order_id, now=now
    )
    for candidate in (await session.scalars(query)).all():
        if not candidate.subcontractor or candidate.organization_id in dpa_active:
            return candidate
    return None


async def check_out_key(
    c: Components,
    caller: Caller,
    *,
    key_id: str,
    user_id: str,
    work_order_id: str,
    request_id: str,
    now: datetime,
) -> KeyView:
    """Hand the key to a technician with a job at its site now; refused (and audited) without."""
    office_only(caller)
    if not user_id or len(user_id) > 36:
        raise InvalidArgument("user_id is required (at most 36 characters)")
    if len(work_order_id) > 36:
        raise InvalidArgument("work_order_id must be at most 36 characters")
    refused = False
    dpa_active = await _subcontractors_with_active_dpa(
        c, caller.tenant_id, key_id=key_id, user_id=user_id, work_order_id=work_order_id, now=now
    )
    async with c.database.unit_of_work() as session:
        await audit.lock_chain(session, caller.tenant_id)
        key, _site = await _office_key(session, caller, key_id, now)
        holding = await open_checkout(session, key.id)
        retry = holding is not None and (
            holding.user_id == user_id and work_order_id in ("", holding.work_order_id)
        )
        if holding is not None and not retry:
            raise FailedPrecondition("the key is checked out to someone else", code="key_out")
        if key.status == LOST:
            raise FailedPrecondition("the key is marked lost", code="key_lost")
        known = await session.get(DirectoryUser, (caller.tenant_id, user_id))
        grant = None
        if retry:
            pass  # the same hand-over asked again: nothing changes
        elif known is None or known.deactivated_at is None:
            grant = await _usable_grant(
                session,
                caller.tenant_id,
                site_id=key.site_id,
                user_id=user_id,
                work_order_id=work_order_id,
                now=now,
                dpa_active=dpa_active,
            )
        if retry:
            pass
        elif grant is None:
            refused = True
            await record_movement(
                c,
                session,
                caller,
                key_entry(
                    "key.check_out",
                    key,
                    request_id,
                    purpose=work_order_id or None,
                    outcome=audit.DENIED,
                    denial_code=NO_ACTIVE_GRANT,
                ),
                now,
            )
        else:
            session.add(
                KeyCheckout(
                    id=str(uuid.uuid4()),
                    tenant_id=caller.tenant_id,
                    key_id=key.id,
                    site_id=key.site_id,
                    user_id=user_id,
                    organization_id=grant.organization_id,
                    grant_id=grant.id,
                    work_order_id=grant.work_order_id,
                    checked_out_by=caller.name,
                    checked_out_at=now,
                )
            )
            key.status, key.version = CHECKED_OUT, key.version + 1
            await session.flush()
            entry = key_entry("key.check_out", key, request_id, purpose=grant.work_order_id)
            await record_movement(c, session, caller, entry, now)
    if refused:
        raise FailedPrecondition(
            "the technician has no active grant for a job at this site", code=NO_ACTIVE_GRANT
        )
    return await load_view(c, key_id)


async def check_in_key(
    c: Components, caller: Caller, *, key_id: str, request_id: str, now: datetime
) -> KeyView:
    """The key is back in the office (a lost key found again, too); a retry changes nothing."""
    async with c.database.unit_of_work() as session:
        await audit.lock_chain(session, caller.tenant_id)
        key = await _handled_key(session, caller, key_id, now)
        if key.status != IN_OFFICE:  # else a retry: nothing changes
            holding = await open_checkout(session, key.id)
            if holding is not None:
                holding.closed_at, holding.closed_as = now, RETURNED
            purpose = holding.work_order_id if holding is not None else None
            action = "key.found" if key.status == LOST else "key.check_in"
            key.status, key.lost_at, key.version = IN_OFFICE, None, key.version + 1
            await session.flush()
            entry = key_entry(action, key, request_id, purpose=purpose)
            await record_movement(c, session, caller, entry, now)
    return await load_view(c, key_id)


async def mark_key_lost(
    c: Components, caller: Caller, *, key_id: str, request_id: str, now: datetime
) -> KeyView:
    """The key is lost: whoever held it failed to return it, and the lock must change."""
    async with c.database.unit_of_work() as session:
        await audit.lock_chain(session, caller.tenant_id)
        key = await _handled_key(session, caller, key_id, now)
        if key.status != LOST:  # else a retry: nothing changes
            holding = await open_checkout(session, key.id)
            if holding is not None:
                holding.closed_at, holding.closed_as = now, LOST
            purpose = holding.work_order_id if holding is not None else None
            key.status, key.lost_at, key.version = LOST, now, key.version + 1
            await session.flush()
            entry = key_entry("key.lost", key, request_id, purpose=purpose)
            await record_movement(c, session, caller, entry, now)
            await open_change_the_lock_task(
                session,
                tenant_id=caller.tenant_id,
                site_id=key.site_id,
                since=now,
                dedupe_key=f"key_lost:{key.id}:{key.version}",
                holder_user_id=holding.user_id if holding is not None else None,
            )
    return await load_view(c, key_id)
