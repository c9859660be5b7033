"""A found key's tag, and the keys a person holds.

A scanned tag tells admins and the dispatchers of the key's area which site it
opens; anyone else — and a tag of no key — is answered "not found", and every
scan is audited. "My keys" lists what the caller holds and when each is due back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from customer_vault import audit
from customer_vault.components import Components
from customer_vault.models import Customer, KeyCheckout, PhysicalKey, Site
from customer_vault.records.key_views import (
    LIST_LIMIT,
    KeyView,
    key_entry,
    load_view,
    load_views,
    record_movement,
)
from customer_vault.records.tag_codes import normalise_tag_code
from customer_vault.visibility import Caller
from fieldvault_platform.auth import PrincipalKind
from fieldvault_platform.errors import (
    NotFound,
    PermissionDenied,
)


@dataclass(frozen=True)
class FoundKey:
    key: KeyView
    site_name: str
    customer_id: str


def _may_learn_site(caller: Caller, site: Site) -> bool:
    principal = caller.principal
    if principal.kind is not PrincipalKind.USER:
        return False
    if "admin" in principal.roles:
        return True
    return "dispatcher" in principal.roles and site.area_id in caller.area_ids


async def find_key_by_tag(
    c: Components, caller: Caller, *, tag_code: str, request_id: str, now: datetime
) -> FoundKey:
    """Which site a found key opens: for admins and the area's dispatchers only.

    Anyone else — and a tag that matches nothing — is answered "not found",
    and the scan is audited either way (the key and its site for the auditors).
    """
    normalised = normalise_tag_code(tag_code)
    tag_index = await c.blind_index.key_tag(caller.tenant_id, normalised)
    async with c.database.unit_of_work() as session:
        await audit.lock_chain(session, caller.tenant_id)
        key = await session.scalar(
            select(PhysicalKey).where(
                PhysicalKey.tenant_id == caller.tenant_id, PhysicalKey.tag_index == tag_index
            )
        )
        site = await session.get(Site, key.site_id) if key is not None else None
        if key is None or site is None or not _may_learn_site(caller, site):
            entry = (
                key_entry(
                    "key.scan", key, request_id, outcome=audit.DENIED, denial_code="not_found"
                )
                if key is not None
                else audit.Entry(
                    action="key.scan",
                    resource_type="physical_key",
                    outcome=audit.DENIED,
                    reason="not_found",
                    denial_code="not_found",
                    request_id=request_id or None,
                )
            )
            await record_movement(c, session, caller, entry, now)
            found = None
        else:
            await record_movement(c, session, caller, key_entry("key.scan", key, request_id), now)
            found = (key, site)
    if found is None:
        raise NotFound("no key with that tag")
    key, site = found
    view = await load_view(c, key.id)
    async with c.database.unit_of_work() as session:
        customer = await session.get(Customer, site.customer_id)
    assert customer is not None
    cipher = await c.keys.cipher(customer)
    site_name = cipher.open("sites", site.id, "name", site.name_ct)
    return FoundKey(view, site_name, site.customer_id)


async def list_my_keys(c: Components, caller: Caller, *, now: datetime) -> list[KeyView]:
    """The keys the calling person holds now, with when each is due back."""
    if caller.principal.kind is not PrincipalKind.USER or caller.user_id is None:
        raise PermissionDenied("only a person holds keys")
    async with c.database.unit_of_work() as session:
        key_ids = (
            await session.scalars(
                select(PhysicalKey.id)
                .join(KeyCheckout, KeyCheckout.key_id == PhysicalKey.id)
                .where(
                    KeyCheckout.tenant_id == caller.tenant_id,
                    KeyCheckout.user_id == caller.user_id,
                    KeyCheckout.closed_at.is_(None),
                )
                .order_by(KeyCheckout.checked_out_at, KeyCheckout.id)
                .limit(LIST_LIMIT)
            )
        ).all()
    return await load_views(c, list(key_ids))
