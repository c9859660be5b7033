"""Customers: personal data encrypted under the customer's own data key.

Vault is asked for what it must do (a new data key, blind indexes, unwrapping)
before the database transaction that stores the result, so Vault being down
leaves nothing half-written, and no transaction waits on Vault.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from customer_vault import audit
from customer_vault.components import Components
from customer_vault.crypto import CustomerCipher
from customer_vault.keys import Erased, wrapped_version
from customer_vault.models import Customer
from customer_vault.validation import optional_text, required_text
from customer_vault.visibility import Caller, Reach, load_customer, require_area, visible_customers
from fieldvault_platform import limits
from fieldvault_platform.errors import InvalidArgument, PermissionDenied
from fieldvault_platform.etags import check_etag
from fieldvault_platform.paging import Keyset
from fieldvault_platform.vault import DataKey

TABLE = "customers"
OLDEST_FIRST = Keyset(Customer.created_at, Customer.id)
PERSONAL_FIELDS = ("name", "email", "phone", "address", "notes")


@dataclass(frozen=True)
class CustomerView:
    row: Customer
    name: str
    email: str
    phone: str
    address: str
    notes: str


def _view(row: Customer, cipher: CustomerCipher) -> CustomerView:
    def read(field: str) -> str:
        return cipher.open(TABLE, row.id, field, getattr(row, f"{field}_ct"))

    return CustomerView(row, *(read(field) for field in PERSONAL_FIELDS))


async def decrypt(c: Components, row: Customer) -> CustomerView:
    return _view(row, await c.keys.cipher(row))


#: Code of the refusal when a new customer or site needs its area named.
AREA_REQUIRED = "area_required"


def area_for_new_record(caller: Caller, area_id: str, *, required: bool) -> str | None:
    """The area a new customer or site goes to: the one named, else the creator's only
    area. One rule for both (README, "Areas of new records"): a dispatcher with a single
    area never names it; whoever reaches several names one. ``required`` is the one
    difference between the two: a site must have an area (it decides who dispatches
    and serves it), while an admin or partner may keep a customer area-less.
    """
    if caller.reach is Reach.GRANTS:
        raise PermissionDenied("your role cannot create customers or sites")
    if area_id:
        require_area(caller, area_id)
        return area_id
    if caller.reach is Reach.AREAS and len(caller.area_ids) == 1:
        return next(iter(caller.area_ids))
    if caller.reach is Reach.AREAS or required:
        raise InvalidArgument("area_id is required: name one of your areas", code=AREA_REQUIRED)
    return None


async def create_customer(
    c: Components,
    caller: Caller,
    *,
    area_id: str,
    name: str,
    email: str,
    phone: str,
    address: str,
    notes: str,
    request_id: str,
    now: datetime,
) -> CustomerView:
    area = area_for_new_record(caller, area_id, required=False)
    values = {
        "name": required_text("name", name, limits.NAME),
        "email": optional_text("email", email, limits.EMAIL),
        "phone": optional_text("phone", phone, limits.PHONE),
        "address": optional_text("address", address, limits.ADDRESS),
        "notes": optional_text("notes", notes, limits.NOTES),
    }
    email_index, phone_index, name_index = await asyncio.gather(
        c.blind_index.email(caller.tenant_id, values["email"]),
        c.blind_index.phone(caller.tenant_id, values["phone"]),
        c.blind_index.name(caller.tenant_id, values["name"]),
    )
    customer_id = str(uuid.uuid4())

    async def store(session: AsyncSession, data_key: DataKey) -> tuple[Customer, CustomerCipher]:
        cipher = c.keys.cipher_from_new_key(caller.tenant_id, customer_id, data_key)
        row = Customer(
            id=customer_id,
            tenant_id=caller.tenant_id,
            area_id=area,
            wrapped_key=data_key.wrapped,
            key_version=wrapped_version(data_key.wrapped),
            email_index=email_index,
            phone_index=phone_index,
            name_index=name_index,
            version=1,
            created_at=now,
            updated_at=now,
            **{
                f"{field}_ct": cipher.seal_optional(TABLE, customer_id, field, value)
                for field, value in values.items()
            },
        )
        session.add(row)
        await c.audit.record(
            session,
            tenant_id=caller.tenant_id,
            actor=audit.AuditActor.of(caller.principal),
            entry=audit.Entry(
                action="customer.create",
                resource_type="customer",
                resource_id=customer_id,
                customer_id=customer_id,
                fields=[field for field, value in values.items() if value],
                request_id=request_id,
            ),
            now=now,
        )
        return row, cipher

    row, cipher = await c.keys.store_with_new_data_key(c.database, caller.tenant_id, store)
    return _view(row, cipher)


async def get_customer(c: Components, caller: Caller, customer_id: str) -> CustomerView:
    async with c.database.unit_of_work() as session:
        row = await load_customer(session, caller, customer_id)
    return await decrypt(c, row)


async def list_customers(
    c: Components,
    caller: Caller,
    *,
    email: str,
    phone: str,
    name: str,
    area_id: str,
    requested_size: int,
    page_token: str,
) -> tuple[list[CustomerView], str]:
    if sum(bool(term) for term in (email, phone, name)) > 1:
        raise InvalidArgument("search by email, by phone or by name: one of them")
    request = OLDEST_FIRST.request(requested_size, page_token)
    query = select(Customer).where(visible_customers(caller), Customer.wrapped_key.is_not(None))
    if email:
        query = query.where(
            Customer.email_index == await c.blind_index.email(caller.tenant_id, email)
        )
    if phone:
        query = query.where(
            Customer.phone_index == await c.blind_index.phone(caller.tenant_id, phone)
        )
    if name:
        query = query.where(Customer.name_index == await c.blind_index.name(caller.tenant_id, name))
    if area_id:
        query = query.where(Customer.area_id == area_id)
    async with c.database.unit_of_work() as session:
        page, token = await request.fetch(session, query)
    return list(await asyncio.gather(*(decrypt(c, row) for row in page))), token


async def _missing_name_index(c: Components, caller: Caller, customer_id: str) -> str | None:
    """The name index of a customer written before names were indexed; None if it has one.

    Such a customer is indexed on its next write: the name can only be read with
    Vault's help, so the migration that added the column could not fill it.
    """
    async with c.database.unit_of_work() as session:
        row = await load_customer(session, caller, customer_id)
    if row.name_index is not None or row.erased:
        return None
    return await c.blind_index.name(caller.tenant_id, (await decrypt(c, row)).name)


async def update_customer(
    c: Components,
    caller: Caller,
    *,
    customer_id: str,
    etag: str,
    changes: dict[str, str],
    request_id: str,
    now: datetime,
) -> CustomerView:
    """``changes`` holds the fields present in the request (an empty string clears)."""
    if not changes:
        raise InvalidArgument("nothing to change")
    if "name" in changes:
        changes["name"] = required_text("name", changes["name"], limits.NAME)
    field_limits = {
        "email": limits.EMAIL,
        "phone": limits.PHONE,
        "address": limits.ADDRESS,
        "notes": limits.NOTES,
        "area_id": 36,
    }
    for field, limit in field_limits.items():
        if field in changes:
            changes[field] = optional_text(field, changes[field], limit)
    if changes.get("area_id"):
        require_area(caller, changes["area_id"])
    # Vault work first, outside the transaction.
    email_index = (
        await c.blind_index.email(caller.tenant_id, changes["email"])
        if "email" in changes
        else None
    )
    phone_index = (
        await c.blind_index.phone(caller.tenant_id, changes["phone"])
        if "phone" in changes
        else None
    )
    name_index = (
        await c.blind_index.name(caller.tenant_id, changes["name"])
        if "name" in changes
        else await _missing_name_index(c, caller, customer_id)
    )
    async with c.database.unit_of_work() as session:
        row = await load_customer(session, caller, customer_id)
        if row.erased:
            raise Erased()
        check_etag(etag, row.version)
        cipher = await c.keys.cipher(row)
        for field in PERSONAL_FIELDS:
            if field in changes:
                setattr(
                    row, f"{field}_ct", cipher.seal_optional(TABLE, row.id, field, changes[field])
                )
        if "email" in changes:
            row.email_index = email_index
        if "phone" in changes:
            row.phone_index = phone_index
        if name_index is not None:
            row.name_index = name_index
        if "area_id" in changes:
            row.area_id = changes["area_id"] or None
        row.version += 1
        row.updated_at = now
        await c.audit.record(
            session,
            tenant_id=caller.tenant_id,
            actor=audit.AuditActor.of(caller.principal),
            entry=audit.Entry(
                action="customer.update",
                resource_type="customer",
                resource_id=row.id,
                customer_id=row.id,
                fields=sorted(changes),
                request_id=request_id,
            ),
            now=now,
        )
    return _view(row, cipher)
