"""Door, alarm and key-safe codes: written by whoever may, listed without values.

Writing never needs read access (a technician on site types in a code they
found; a dispatcher takes one down on the phone). Every write is a new
version with its author and time; the old versions stay, encrypted, for the
record. No secret ever gets an index, a hash or deterministic encryption.

A code is sealed to its row, its kind and its site (associated data version
2), so a row re-pointed at another site of the same customer fails to
decrypt. Rows sealed before the site was bound (version 1) stay readable and
are re-sealed by the site's next code write and by key rotation
(:func:`reseal_site_unbound`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from customer_vault import audit, rotation_tasks
from customer_vault.components import Components
from customer_vault.crypto import CannotDecrypt, CustomerCipher
from customer_vault.keys import Erased, TenantKeys
from customer_vault.models import Customer, Site, SiteSecret
from customer_vault.visibility import Caller, load_site, with_dpa_checked
from fieldvault_platform.db import Database
from fieldvault_platform.errors import AlreadyExists, InvalidArgument

log = logging.getLogger(__name__)

TABLE = "site_secrets"
SECRET_KINDS = ("door_code", "alarm_code", "key_safe_code")
#: What a grant may name besides secret kinds.
CONTRACTS = "contracts"
GRANT_FIELDS = (*SECRET_KINDS, CONTRACTS)
MAX_VALUE_LENGTH = 128
_WRITE_ATTEMPTS = 3
#: Codes re-sealed per database transaction by :func:`reseal_site_unbound`.
RESEAL_BATCH = 200
#: Associated data naming the record and kind only (rows written before migration 0006).
AAD_RECORD = 1
#: Associated data naming the site too: what every code is sealed with now.
AAD_SITE_BOUND = 2


@dataclass(frozen=True)
class SecretInfo:
    kind: str
    version: int
    written_at: datetime
    written_by: str


def check_kind(kind: str) -> str:
    if kind not in SECRET_KINDS:
        raise InvalidArgument(f"kind must be one of: {', '.join(SECRET_KINDS)}")
    return kind


def _check_value(value: str) -> str:
    if not value or len(value) > MAX_VALUE_LENGTH or not value.isprintable():
        # Never quote the value: it is the secret.
        raise InvalidArgument(f"value must be 1-{MAX_VALUE_LENGTH} printable characters")
    return value


def _owner(site_id: str) -> str:
    return f"site:{site_id}"


def seal_secret(
    cipher: CustomerCipher, *, secret_id: str, site_id: str, kind: str, value: str
) -> bytes:
    """A code's ciphertext, bound to its row, kind and site (stored with ``AAD_SITE_BOUND``)."""
    return cipher.seal(TABLE, secret_id, kind, value, owner=_owner(site_id))


def open_secret(cipher: CustomerCipher, secret: SiteSecret) -> str:
    """The code's value, under the associated data its row says it was sealed with."""
    owner = _owner(secret.site_id) if secret.aad_version == AAD_SITE_BOUND else None
    return cipher.open(TABLE, secret.id, secret.kind, secret.value_ct, owner=owner)


async def _reseal_site_unbound(
    session: AsyncSession, cipher: CustomerCipher, rows: Sequence[SiteSecret]
) -> int:
    """Re-seal version-1 rows with their site bound in; a row that fails to open stays."""
    resealed = 0
    for row in rows:
        if row.aad_version != AAD_RECORD or row.value_ct is None:
            continue
        try:
            value = open_secret(cipher, row)
        except CannotDecrypt:
            # Tampered or moved already: left as it is, still refused on reveal.
            log.warning("a stored code could not be re-sealed", extra={"secret_id": row.id})
            continue
        sealed = seal_secret(
            cipher, secret_id=row.id, site_id=row.site_id, kind=row.kind, value=value
        )
        # Conditional on the old ciphertext: an erasure in between wins.
        result = await session.execute(
            update(SiteSecret)
            .where(
                SiteSecret.id == row.id,
                SiteSecret.value_ct == row.value_ct,
                SiteSecret.aad_version == AAD_RECORD,
            )
            .values(value_ct=sealed, aad_version=AAD_SITE_BOUND)
        )
        resealed += result.rowcount  # type: ignore[attr-defined]
    return resealed


async def reseal_site_unbound(keys: TenantKeys, database: Database, tenant_id: str) -> int:
    """Re-seal every version-1 code of the tenant (run by key rotation), in batches."""
    total, after = 0, ""
    while True:
        async with database.unit_of_work() as session:
            rows = (
                await session.execute(
                    select(SiteSecret, Customer)
                    .join(Site, Site.id == SiteSecret.site_id)
                    .join(Customer, Customer.id == Site.customer_id)
                    .where(
                        SiteSecret.tenant_id == tenant_id,
                        SiteSecret.aad_version == AAD_RECORD,
                        SiteSecret.value_ct.is_not(None),
                        Customer.wrapped_key.is_not(None),
                        SiteSecret.id > after,
                    )
                    .order_by(SiteSecret.id)
                    .limit(RESEAL_BATCH)
                )
            ).all()
        if not rows:
            return total
        after = rows[-1][0].id
        by_customer: dict[str, tuple[Customer, list[SiteSecret]]] = {}
        for secret, customer in rows:
            by_customer.setdefault(customer.id, (customer, []))[1].append(secret)
        # Vault first (unwrapping each customer's key), then one transaction.
        ciphers = {
            customer_id: await keys.cipher(customer)
            for customer_id, (customer, _) in by_customer.items()
        }
        async with database.unit_of_work() as session:
            for customer_id, (_, secrets) in by_customer.items():
                total += await _reseal_site_unbound(session, ciphers[customer_id], secrets)


async def latest_secret(session: AsyncSession, site_id: str, kind: str) -> SiteSecret | None:
    secret: SiteSecret | None = await session.scalar(
        select(SiteSecret)
        .where(SiteSecret.site_id == site_id, SiteSecret.kind == kind)
        .order_by(SiteSecret.version.desc())
        .limit(1)
    )
    return secret


async def put_secret(
    c: Components,
    caller: Caller,
    *,
    site_id: str,
    kind: str,
    value: str,
    request_id: str,
    now: datetime,
) -> SecretInfo:
    check_kind(kind)
    _check_value(value)
    caller = await with_dpa_checked(c.dpa, c.database, caller, now)
    async with c.database.unit_of_work() as session:
        site, customer = await load_site(session, caller, site_id, now)
    if customer.erased:
        raise Erased()
    cipher = await c.keys.cipher(customer)
    for attempt in range(_WRITE_ATTEMPTS):
        secret_id = str(uuid.uuid4())
        try:
            async with c.database.unit_of_work() as session:
                current = await session.scalar(
                    select(func.max(SiteSecret.version)).where(
                        SiteSecret.site_id == site.id, SiteSecret.kind == kind
                    )
                )
                row = SiteSecret(
                    id=secret_id,
                    tenant_id=caller.tenant_id,
                    site_id=site.id,
                    kind=kind,
                    version=(current or 0) + 1,
                    value_ct=seal_secret(
                        cipher, secret_id=secret_id, site_id=site.id, kind=kind, value=value
                    ),
                    aad_version=AAD_SITE_BOUND,
                    written_by=caller.name,
                    written_at=now,
                )
                session.add(row)
                await session.flush()
                # The site's codes sealed before the site was bound in: bound now.
                unbound = (
                    await session.scalars(
                        select(SiteSecret).where(
                            SiteSecret.site_id == site.id, SiteSecret.aad_version == AAD_RECORD
                        )
                    )
                ).all()
                await _reseal_site_unbound(session, cipher, unbound)
                await c.audit.record(
                    session,
                    tenant_id=caller.tenant_id,
                    actor=audit.AuditActor.of(caller.principal),
                    entry=audit.Entry(
                        action="secret.write",
                        resource_type="secret",
                        resource_id=secret_id,
                        customer_id=customer.id,
                        site_id=site.id,
                        fields=[kind],
                        request_id=request_id,
                    ),
                    now=now,
                )
                # The code's rotation tasks are done: a new value is stored.
                await rotation_tasks.close_for_new_value(
                    session,
                    tenant_id=caller.tenant_id,
                    site_id=site.id,
                    subject=kind,
                    closed_by=caller.name,
                    now=now,
                )
            return SecretInfo(kind, row.version, now, row.written_by)
        except IntegrityError:
            # Another writer took this version number; the driver's message is dropped.
            if attempt == _WRITE_ATTEMPTS - 1:
                raise AlreadyExists("the secret is being changed concurrently; retry") from None
    raise AssertionError("unreachable")


async def list_secrets(
    c: Components, caller: Caller, *, site_id: str, now: datetime
) -> list[SecretInfo]:
    caller = await with_dpa_checked(c.dpa, c.database, caller, now)
    async with c.database.unit_of_work() as session:
        site, _ = await load_site(session, caller, site_id, now)
        rows = (
            await session.execute(
                select(
                    SiteSecret.kind,
                    SiteSecret.version,
                    SiteSecret.written_at,
                    SiteSecret.written_by,
                )
                .where(SiteSecret.site_id == site.id)
                .order_by(SiteSecret.kind, SiteSecret.version)
            )
        ).all()
    latest: dict[str, SecretInfo] = {}
    for row in rows:  # ordered by version: the last one per kind wins
        latest[row.kind] = SecretInfo(row.kind, row.version, row.written_at, row.written_by)
    return [latest[kind] for kind in SECRET_KINDS if kind in latest]
