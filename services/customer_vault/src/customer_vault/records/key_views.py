"""What the key register's use cases share: the key's states, how a key is shown (its
label decrypted after the database work, with who holds it and when it is due back),
who counts as the office, and how a movement is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from customer_vault import audit
from customer_vault.components import Components
from customer_vault.crypto import CustomerCipher
from customer_vault.models import Customer, Grant, KeyCheckout, PhysicalKey
from customer_vault.records.key_overdue import grant_end
from customer_vault.visibility import Caller, Reach
from fieldvault_platform.auth import PrincipalKind
from fieldvault_platform.errors import (
    PermissionDenied,
)

TABLE = "physical_keys"
KINDS = ("key", "fob", "card")
IN_OFFICE, CHECKED_OUT, LOST = "in_office", "checked_out", "lost"
RETURNED = "returned"
LABEL_LIMIT = 200
NO_ACTIVE_GRANT = "no_active_grant"
LIST_LIMIT = 500


@dataclass(frozen=True)
class KeyView:
    row: PhysicalKey
    label: str
    checkout: KeyCheckout | None = None
    #: When the checkout's key is due back (the job's grant end plus the grace).
    due_at: datetime | None = None

    def overdue(self, now: datetime) -> bool:
        return self.checkout is not None and self.due_at is not None and self.due_at <= now


def return_grace(c: Components) -> timedelta:
    return timedelta(minutes=c.settings.key_return_grace_minutes)


def owner_of(site_id: str) -> str:
    return f"site:{site_id}"


def label_of(cipher: CustomerCipher, row: PhysicalKey) -> str:
    return cipher.open(TABLE, row.id, "label", row.label_ct, owner=owner_of(row.site_id))


def office_only(caller: Caller) -> None:
    """Keys are handled by people of the office: admins, and dispatchers in their areas."""
    if caller.principal.kind is not PrincipalKind.USER or caller.reach is Reach.GRANTS:
        raise PermissionDenied("only the office handles a site's keys")
    if caller.reach is Reach.TENANT and "admin" not in caller.principal.roles:
        raise PermissionDenied("only the office handles a site's keys")


def key_entry(
    action: str,
    key: PhysicalKey,
    request_id: str,
    *,
    purpose: str | None = None,
    outcome: str = audit.SUCCESS,
    denial_code: str | None = None,
) -> audit.Entry:
    return audit.Entry(
        action=action,
        resource_type="physical_key",
        resource_id=key.id,
        customer_id=key.customer_id,
        site_id=key.site_id,
        fields=[key.kind],
        purpose=purpose,
        outcome=outcome,
        reason=denial_code,
        denial_code=denial_code,
        request_id=request_id or None,
    )


async def record_movement(
    c: Components, session: AsyncSession, caller: Caller, entry: audit.Entry, now: datetime
) -> None:
    await c.audit.record(
        session,
        tenant_id=caller.tenant_id,
        actor=audit.AuditActor.of(caller.principal),
        entry=entry,
        now=now,
    )


async def open_checkout(session: AsyncSession, key_id: str) -> KeyCheckout | None:
    checkout: KeyCheckout | None = await session.scalar(
        select(KeyCheckout).where(KeyCheckout.key_id == key_id, KeyCheckout.closed_at.is_(None))
    )
    return checkout


async def load_views(c: Components, key_ids: list[str]) -> list[KeyView]:
    """The keys as they are now, decrypted after the database work (Vault outside it)."""
    states: list[tuple[PhysicalKey, Customer, KeyCheckout | None, datetime | None]] = []
    async with c.database.unit_of_work() as session:
        for key_id in key_ids:
            key = await session.get(PhysicalKey, key_id)
            assert key is not None
            customer = await session.get(Customer, key.customer_id)
            assert customer is not None  # a foreign key
            checkout = await open_checkout(session, key.id)
            due_at = None
            if checkout is not None:
                grant = await session.get(Grant, checkout.grant_id)
                assert grant is not None
                due_at = grant_end(grant) + return_grace(c)
            states.append((key, customer, checkout, due_at))
    return [
        KeyView(key, label_of(await c.keys.cipher(customer), key), checkout, due_at)
        for key, customer, checkout, due_at in states
    ]


async def load_view(c: Components, key_id: str) -> KeyView:
    return (await load_views(c, [key_id]))[0]
