"""Sites: a customer's places of work, encrypted under the customer's data key."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from customer_vault import audit, events
from customer_vault.components import Components
from customer_vault.crypto import CustomerCipher
from customer_vault.keys import Erased
from customer_vault.models import Customer, Site
from customer_vault.records.customers import area_for_new_record
from customer_vault.validation import optional_text, required_text
from customer_vault.visibility import (
    Caller,
    load_customer,
    load_site,
    require_area,
    visible_sites,
    with_dpa_checked,
)
from fieldvault_platform import limits
from fieldvault_platform.auth import Principal, PrincipalKind
from fieldvault_platform.errors import InvalidArgument, NotFound, PermissionDenied
from fieldvault_platform.etags import check_etag
from fieldvault_platform.paging import Keyset

TABLE = "sites"
OLDEST_FIRST = Keyset(Site.created_at, Site.id)
ENCRYPTED_FIELDS = ("name", "address", "access_instructions")
LIMITS = {
    "name": limits.NAME,
    "address": limits.ADDRESS,
    "access_instructions": limits.ACCESS_INSTRUCTIONS,
}


@dataclass(frozen=True)
class SiteView:
    row: Site
    name: str
    address: str
    access_instructions: str


def _view(row: Site, cipher: CustomerCipher) -> SiteView:
    def read(field: str) -> str:
        return cipher.open(TABLE, row.id, field, getattr(row, f"{field}_ct"))

    return SiteView(row, *(read(field) for field in ENCRYPTED_FIELDS))


async def decrypt(c: Components, site: Site, customer: Customer) -> SiteView:
    return _view(site, await c.keys.cipher(customer))


async def create_site(
    c: Components,
    caller: Caller,
    *,
    customer_id: str,
    area_id: str,
    name: str,
    address: str,
    access_instructions: str,
    request_id: str,
    now: datetime,
) -> SiteView:
    area = area_for_new_record(caller, area_id, required=True)
    values = {
        "name": required_text("name", name, LIMITS["name"]),
        "address": required_text("address", address, LIMITS["address"]),
        "access_instructions": optional_text(
            "access_instructions", access_instructions, LIMITS["access_instructions"]
        ),
    }
    async with c.database.unit_of_work() as session:
        customer = await load_customer(session, caller, customer_id)
    cipher = await c.keys.cipher(customer)  # Erased for an erased customer
    site_id = str(uuid.uuid4())
    row = Site(
        id=site_id,
        tenant_id=caller.tenant_id,
        customer_id=customer.id,
        area_id=area,
        version=1,
        created_at=now,
        updated_at=now,
        **{
            f"{field}_ct": cipher.seal_optional(TABLE, site_id, field, value)
            for field, value in values.items()
        },
    )
    async with c.database.unit_of_work() as session:
        session.add(row)
        await c.audit.record(
            session,
            tenant_id=caller.tenant_id,
            actor=audit.AuditActor.of(caller.principal),
            entry=audit.Entry(
                action="site.create",
                resource_type="site",
                resource_id=site_id,
                customer_id=customer.id,
                site_id=site_id,
                fields=[field for field, value in values.items() if value],
                request_id=request_id,
            ),
            now=now,
        )
    return _view(row, cipher)


async def get_site(c: Components, caller: Caller, site_id: str, now: datetime) -> SiteView:
    caller = await with_dpa_checked(c.dpa, c.database, caller, now)
    async with c.database.unit_of_work() as session:
        site, customer = await load_site(session, caller, site_id, now)
    return await decrypt(c, site, customer)


async def list_sites(
    c: Components,
    caller: Caller,
    *,
    customer_id: str,
    area_id: str,
    requested_size: int,
    page_token: str,
    now: datetime,
) -> tuple[list[SiteView], str]:
    request = OLDEST_FIRST.request(requested_size, page_token)
    caller = await with_dpa_checked(c.dpa, c.database, caller, now)
    query = (
        select(Site, Customer)
        .join(Customer, Customer.id == Site.customer_id)
        .where(visible_sites(caller, now), Customer.wrapped_key.is_not(None))
    )
    if customer_id:
        query = query.where(Site.customer_id == customer_id)
    if area_id:
        query = query.where(Site.area_id == area_id)
    async with c.database.unit_of_work() as session:
        page, token = await request.fetch_rows(session, query)
    views = await asyncio.gather(*(decrypt(c, site, customer) for site, customer in page))
    return list(views), token


async def update_site(
    c: Components,
    caller: Caller,
    *,
    site_id: str,
    etag: str,
    changes: dict[str, str],
    request_id: str,
    now: datetime,
) -> SiteView:
    if not changes:
        raise InvalidArgument("nothing to change")
    for field in ("name", "address"):
        if field in changes:
            changes[field] = required_text(field, changes[field], LIMITS[field])
    if "access_instructions" in changes:
        changes["access_instructions"] = optional_text(
            "access_instructions", changes["access_instructions"], LIMITS["access_instructions"]
        )
    if "area_id" in changes:
        changes["area_id"] = required_text("area_id", changes["area_id"], 36)
        require_area(caller, changes["area_id"])
    caller = await with_dpa_checked(c.dpa, c.database, caller, now)
    async with c.database.unit_of_work() as session:
        site, customer = await load_site(session, caller, site_id, now)
        require_area(caller, site.area_id)  # technicians see sites, but do not edit them
        if customer.erased:
            raise Erased()
        check_etag(etag, site.version)
        cipher = await c.keys.cipher(customer)
        for field in ENCRYPTED_FIELDS:
            if field in changes:
                setattr(
                    site, f"{field}_ct", cipher.seal_optional(TABLE, site.id, field, changes[field])
                )
        moved_from = site.area_id if changes.get("area_id", site.area_id) != site.area_id else None
        if moved_from is not None:
            site.area_id = changes["area_id"]
            # Work-order moves the site's open work orders along (and re-checks their grants).
            events.site_area_changed(
                session,
                tenant_id=caller.tenant_id,
                site_id=site.id,
                previous_area_id=moved_from,
                area_id=site.area_id,
                at=now,
            )
        site.version += 1
        site.updated_at = now
        await c.audit.record(
            session,
            tenant_id=caller.tenant_id,
            actor=audit.AuditActor.of(caller.principal),
            entry=audit.Entry(
                action="site.update",
                resource_type="site",
                resource_id=site.id,
                customer_id=customer.id,
                site_id=site.id,
                fields=sorted(changes),
                request_id=request_id,
            ),
            now=now,
        )
    if moved_from is not None:
        c.wake_relay()
    return _view(site, cipher)


SITES_LOCATE = "sites:locate"
#: The one service account that locates sites (to file work orders by area).
SITE_LOCATOR = "work_order"


async def locate_site(c: Components, principal: Principal, site_id: str) -> tuple[Site, bool]:
    """The site's customer and area (and whether it was erased), for work-order only."""
    principal.require_scope(SITES_LOCATE)
    if principal.kind is not PrincipalKind.SERVICE or principal.name != SITE_LOCATOR:
        raise PermissionDenied("only the work-order service locates sites")
    if principal.tenant_id is None:
        raise PermissionDenied("locating a site needs a token bound to a tenant")
    async with c.database.unit_of_work() as session:
        row = (
            await session.execute(
                select(Site, Customer.wrapped_key)
                .join(Customer, Customer.id == Site.customer_id)
                .where(Site.id == site_id, Site.tenant_id == principal.tenant_id)
            )
        ).first()
    if row is None:
        raise NotFound("site not found")
    return row[0], row[1] is None
