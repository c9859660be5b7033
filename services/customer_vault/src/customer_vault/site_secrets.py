"""Door, alarm and key-safe codes: written by whoever may, listed without values.

Writing never needs read access (a technician on site types in a code they
found; a dispatcher takes one down on the phone). Every write is a new
version with its author and time; the old versions stay, encrypted, for the
record. No secret ever gets an index, a hash or deterministic encryption.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from customer_vault import audit
from customer_vault.access import Caller, load_site, with_dpa_checked
from customer_vault.components import Components
from customer_vault.keys import Erased
from customer_vault.models import SiteSecret
from fieldvault_platform.errors import AlreadyExists, InvalidArgument

TABLE = "site_secrets"
SECRET_KINDS = ("door_code", "alarm_code", "key_safe_code")
#: What a grant may name besides secret kinds.
CONTRACTS = "contracts"
GRANT_FIELDS = (*SECRET_KINDS, CONTRACTS)
MAX_VALUE_LENGTH = 128
_WRITE_ATTEMPTS = 3


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
                    value_ct=cipher.seal(TABLE, secret_id, kind, value),
                    written_by=caller.name,
                    written_at=now,
                )
                session.add(row)
                await session.flush()
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
