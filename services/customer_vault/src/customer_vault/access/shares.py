"""Two-channel secure sharing with an external recipient (docs/security-model.md#secure-sharing).

A sender shares a contract, a subcontractor's DPA document or a one-off
credential with someone who has no account: the **link** goes by e-mail and
the **PIN** by SMS (notification fetches each for its own channel only, see
:func:`delivery`), so whoever reads one channel holds half a key. Opening
needs both; it serves the thing **once**; a wrong PIN counts, and after
``share_max_pin_attempts`` of them the share is dead. Opened, revoked,
locked, expired and unknown shares all answer the same ``share_unavailable``.

Who may share what: ``shares:write`` (admins and DPOs) shares contracts of
customers the sender can see and DPA documents; ``shares:credential``
(admins only) shares a one-off credential. Only the sender lists and revokes
their shares.

Nothing shared sits in clear: the link token (``<share id>.<random>``) and
the PIN are kept only as keyed hashes (Transit HMAC, compared in constant
time); the recipient's address and phone number, the undelivered link and
PIN and a credential are sealed with the share's own data key and wiped when
they are no longer needed; a contract or DPA document stays sealed under its
own key until the moment it is opened. Creation, every refused opening,
the opening and the revocation are audited in the hash chain; the sender is
told of an opening or a lock-out through ``share_opened`` / ``share_locked``.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from customer_vault import audit, events
from customer_vault.blind_index import normalise_email, normalise_phone
from customer_vault.components import Components
from customer_vault.keys import Erased, wrapped_version
from customer_vault.models import Contract, Customer, DpaDocument, OrganizationKey, Share
from customer_vault.records import contracts, dpa_documents
from customer_vault.validation import optional_text, required_text
from customer_vault.visibility import Caller, load_customer
from fieldvault_platform import limits
from fieldvault_platform.db import as_utc
from fieldvault_platform.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from fieldvault_platform.vault import DataKey

TABLE = "shares"
CONTRACT, DPA_DOCUMENT, CREDENTIAL = "contract", "dpa_document", "credential"
KINDS = (CONTRACT, DPA_DOCUMENT, CREDENTIAL)
ACTIVE, OPENED, REVOKED, LOCKED = "active", "opened", "revoked", "locked"
EMAIL, SMS = "email", "sms"
PIN_DIGITS = 8
MAX_CREDENTIAL_CHARS = 2000
#: The columns wiped when a share dies: nothing of it is left to decrypt but its label.
_SEALED_PAYLOAD = ("credential_ct", "email_ct", "phone_ct", "link_ct", "pin_ct")
#: What each channel carries: its address and its half of the key.
_CHANNEL_COLUMNS = {EMAIL: ("email_ct", "link_ct"), SMS: ("phone_ct", "pin_ct")}


class ShareUnavailable(FailedPrecondition):
    """The same answer for an unknown, opened, revoked, locked or expired share."""

    code = "share_unavailable"

    def __init__(self) -> None:
        super().__init__("this share is no longer available")


class PinWrong(PermissionDenied):
    code = "share_pin_wrong"

    def __init__(self, attempts_left: int) -> None:
        super().__init__(f"the PIN is not correct; {attempts_left} attempt(s) left")
        self.attempts_left = attempts_left


@dataclass(frozen=True)
class ShareView:
    row: Share
    label: str
    status: str


@dataclass(frozen=True)
class Delivery:
    address: str
    secret: str
    kind: str
    expires_at: datetime


@dataclass(frozen=True)
class Opened:
    kind: str
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class _ShareKey:
    """The share as a key holder: its own name in associated data and the key cache."""

    tenant_id: str
    id: str
    wrapped_key: str | None


def _cipher_holder(row: Share) -> _ShareKey:
    return _ShareKey(row.tenant_id, f"share:{row.id}", row.wrapped_key)


def status_of(row: Share, now: datetime) -> str:
    if row.status == ACTIVE and as_utc(row.expires_at) <= now:
        return "expired"
    return row.status


def _audit_actor_for_recipient(share_id: str) -> audit.AuditActor:
    return audit.AuditActor(kind="external", id=f"share:{share_id}")


# --- the sender --------------------------------------------------------------------


async def _shared_document(
    c: Components, caller: Caller, kind: str, document_id: str
) -> tuple[str | None, str | None]:
    """Checks the sender may share the document; returns (document id, customer id)."""
    if kind == CREDENTIAL:
        if document_id:
            raise InvalidArgument("a credential share takes no document_id")
        return None, None
    if not document_id:
        raise InvalidArgument("document_id is required")
    async with c.database.unit_of_work() as session:
        if kind == CONTRACT:
            contract = await session.scalar(
                select(Contract).where(
                    Contract.id == document_id, Contract.tenant_id == caller.tenant_id
                )
            )
            if contract is None:
                raise NotFound("contract not found")
            customer = await load_customer(session, caller, contract.customer_id)
            if customer.erased or contract.content_ct is None:
                raise Erased()
            return contract.id, customer.id
        document = await session.scalar(
            select(DpaDocument).where(
                DpaDocument.id == document_id, DpaDocument.tenant_id == caller.tenant_id
            )
        )
        if document is None:
            raise NotFound("document not found")
        return document.id, None


async def create(
    c: Components,
    caller: Caller,
    *,
    kind: str,
    document_id: str,
    credential: str,
    recipient_email: str,
    recipient_phone: str,
    expires_in_hours: int,
    label: str,
    request_id: str,
    now: datetime,
) -> ShareView:
    if kind not in KINDS:
        raise InvalidArgument(f"kind must be one of: {', '.join(KINDS)}")
    if kind == CREDENTIAL:
        credential = required_text("credential", credential, MAX_CREDENTIAL_CHARS)
    elif credential:
        raise InvalidArgument("only a credential share takes a credential")
    recipient_email = required_text("recipient_email", recipient_email, limits.EMAIL)
    recipient_phone = required_text("recipient_phone", recipient_phone, limits.PHONE)
    email = normalise_email(recipient_email)
    phone = normalise_phone(recipient_phone)
    settings = c.settings
    hours = expires_in_hours or settings.share_default_hours
    if not 1 <= hours <= settings.share_max_hours:
        raise InvalidArgument(f"expires_in_hours must be 1-{settings.share_max_hours}")
    label = optional_text("label", label, 100)
    shared_id, customer_id = await _shared_document(c, caller, kind, document_id)

    share_id = str(uuid.uuid4())
    link_secret = secrets.token_urlsafe(32)
    pin = f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"
    link_hash = await c.blind_index.share_secret(caller.tenant_id, "link", share_id, link_secret)
    pin_hash = await c.blind_index.share_secret(caller.tenant_id, "pin", share_id, pin)
    expires_at = now + timedelta(hours=hours)

    async def store(session: AsyncSession, data_key: DataKey) -> Share:
        holder = f"share:{share_id}"
        cipher = c.keys.cipher_from_new_key(caller.tenant_id, holder, data_key)

        def seal(field: str, value: str) -> bytes:
            return cipher.seal(TABLE, share_id, field, value)

        row = Share(
            id=share_id,
            tenant_id=caller.tenant_id,
            kind=kind,
            document_id=shared_id,
            customer_id=customer_id,
            created_by=caller.name,
            created_at=now,
            expires_at=expires_at,
            status=ACTIVE,
            failed_attempts=0,
            max_attempts=settings.share_max_pin_attempts,
            wrapped_key=data_key.wrapped,
            key_version=wrapped_version(data_key.wrapped),
            link_hash=link_hash,
            pin_hash=pin_hash,
            label_ct=seal("label", label) if label else None,
            credential_ct=seal("credential", credential) if kind == CREDENTIAL else None,
            email_ct=seal("email", email),
            phone_ct=seal("phone", phone),
            link_ct=seal("link", f"{share_id}.{link_secret}"),
            pin_ct=seal("pin", pin),
        )
        session.add(row)
        await c.audit.record(
            session,
            tenant_id=caller.tenant_id,
            actor=audit.AuditActor.of(caller.principal),
            entry=audit.Entry(
                action="share.create",
                resource_type="share",
                resource_id=share_id,
                customer_id=customer_id,
                fields=[kind],
                purpose=shared_id,
                request_id=request_id,
            ),
            now=now,
        )
        events.share_created(
            session,
            tenant_id=caller.tenant_id,
            share_id=share_id,
            user_id=caller.name,
            expires_at=expires_at,
            at=now,
        )
        return row

    row = await c.keys.store_with_new_data_key(c.database, caller.tenant_id, store)
    return ShareView(row, label, ACTIVE)


async def _label(c: Components, row: Share) -> str:
    if row.label_ct is None:
        return ""
    cipher = await c.keys.cipher(_cipher_holder(row))
    return cipher.open(TABLE, row.id, "label", row.label_ct)


async def list_mine(c: Components, caller: Caller, *, now: datetime) -> list[ShareView]:
    async with c.database.unit_of_work() as session:
        rows = (
            await session.scalars(
                select(Share)
                .where(Share.tenant_id == caller.tenant_id, Share.created_by == caller.name)
                .order_by(Share.created_at.desc(), Share.id)
                .limit(200)
            )
        ).all()
    return [ShareView(row, await _label(c, row), status_of(row, now)) for row in rows]


def _wiped() -> dict[str, Any]:
    return dict.fromkeys(_SEALED_PAYLOAD)


async def revoke(
    c: Components, caller: Caller, *, share_id: str, request_id: str, now: datetime
) -> ShareView:
    async with c.database.unit_of_work() as session:
        row = await session.scalar(
            select(Share).where(
                Share.id == share_id,
                Share.tenant_id == caller.tenant_id,
                Share.created_by == caller.name,
            )
        )
        if row is None:
            raise NotFound("share not found")
        if row.status == ACTIVE:
            # Also an expired one: its sealed leftovers go now.
            row.status, row.revoked_at = REVOKED, now
            for column in _SEALED_PAYLOAD:
                setattr(row, column, None)
            await c.audit.record(
                session,
                tenant_id=caller.tenant_id,
                actor=audit.AuditActor.of(caller.principal),
                entry=audit.Entry(
                    action="share.revoke",
                    resource_type="share",
                    resource_id=row.id,
                    customer_id=row.customer_id,
                    fields=[row.kind],
                    request_id=request_id,
                ),
                now=now,
            )
    return ShareView(row, await _label(c, row), status_of(row, now))


# --- notification, delivering ------------------------------------------------------


async def _live_share(session: AsyncSession, tenant_id: str, share_id: str) -> Share | None:
    row: Share | None = await session.scalar(
        select(Share).where(Share.id == share_id, Share.tenant_id == tenant_id)
    )
    return row


async def delivery(
    c: Components, *, tenant_id: str, share_id: str, channel: str, now: datetime
) -> Delivery:
    """The address and the secret of one channel, while the share lives and it is unsent."""
    if channel not in _CHANNEL_COLUMNS:
        raise InvalidArgument("channel must be email or sms")
    address_column, secret_column = _CHANNEL_COLUMNS[channel]
    async with c.database.unit_of_work() as session:
        row = await _live_share(session, tenant_id, share_id)
    if row is None or status_of(row, now) != ACTIVE:
        raise ShareUnavailable()
    address_ct, secret_ct = getattr(row, address_column), getattr(row, secret_column)
    if address_ct is None or secret_ct is None:
        raise ShareUnavailable()
    cipher = await c.keys.cipher(_cipher_holder(row))
    return Delivery(
        address=cipher.open(TABLE, row.id, address_column[:-3], address_ct),
        secret=cipher.open(TABLE, row.id, secret_column[:-3], secret_ct),
        kind=row.kind,
        expires_at=as_utc(row.expires_at),
    )


async def confirm_delivery(
    c: Components, *, tenant_id: str, share_id: str, channel: str, now: datetime
) -> None:
    """The channel's message is sent: its address and secret are wiped (idempotent)."""
    if channel not in _CHANNEL_COLUMNS:
        raise InvalidArgument("channel must be email or sms")
    address_column, secret_column = _CHANNEL_COLUMNS[channel]
    sent_column = f"{channel}_sent_at"
    async with c.database.unit_of_work() as session:
        row = await _live_share(session, tenant_id, share_id)
        if row is None:
            raise NotFound("share not found")
        setattr(row, address_column, None)
        setattr(row, secret_column, None)
        if getattr(row, sent_column) is None:
            setattr(row, sent_column, now)


# --- the recipient -----------------------------------------------------------------


def _parse_token(token: str) -> tuple[str, str] | None:
    share_id, dot, secret = token.strip().partition(".")
    if not dot or len(share_id) != 36 or not 20 <= len(secret) <= 100:
        return None
    try:
        uuid.UUID(share_id)
    except ValueError:
        return None
    return share_id, secret


async def _refuse(
    c: Components, row: Share, *, reason: str, request_id: str, now: datetime
) -> None:
    async with c.database.unit_of_work() as session:
        await _audit_open(
            c, session, row, outcome=audit.DENIED, reason=reason, request_id=request_id, now=now
        )


async def _audit_open(
    c: Components,
    session: AsyncSession,
    row: Share,
    *,
    outcome: str,
    reason: str | None,
    request_id: str,
    now: datetime,
) -> None:
    await c.audit.record(
        session,
        tenant_id=row.tenant_id,
        actor=_audit_actor_for_recipient(row.id),
        entry=audit.Entry(
            action="share.open",
            resource_type="share",
            resource_id=row.id,
            customer_id=row.customer_id,
            fields=[row.kind],
            purpose=row.document_id,
            outcome=outcome,
            reason=reason,
            denial_code=reason,
            request_id=request_id,
        ),
        now=now,
    )


async def _content(c: Components, row: Share) -> Opened:
    """Decrypts what the share gives (Vault first: without it nothing changes)."""
    if row.kind == CREDENTIAL:
        if row.credential_ct is None:
            raise ShareUnavailable()
        cipher = await c.keys.cipher(_cipher_holder(row))
        value = cipher.open_bytes(TABLE, row.id, "credential", row.credential_ct)
        return Opened(CREDENTIAL, "", "text/plain; charset=utf-8", value)
    key_holder: Customer | OrganizationKey | None
    stored: Contract | DpaDocument | None
    async with c.database.unit_of_work() as session:
        if row.kind == CONTRACT:
            stored = await session.get(Contract, row.document_id)
            key_holder = await session.get(Customer, row.customer_id)
            table = contracts.TABLE
        else:
            stored = await session.get(DpaDocument, row.document_id)
            key_holder = (
                await session.get(OrganizationKey, (row.tenant_id, stored.organization_id))
                if stored is not None
                else None
            )
            table = dpa_documents.TABLE
    if stored is None or key_holder is None or stored.content_ct is None:
        raise ShareUnavailable()
    try:
        document_cipher = await c.keys.cipher(key_holder)
    except Erased:
        raise ShareUnavailable() from None
    content = document_cipher.open_bytes(table, stored.id, "content", stored.content_ct)
    filename = document_cipher.open(table, stored.id, "filename", stored.filename_ct)
    return Opened(row.kind, filename, stored.content_type, content)


async def open_share(
    c: Components, *, token: str, pin: str, request_id: str, now: datetime
) -> Opened:
    parsed = _parse_token(token)
    if parsed is None:
        raise ShareUnavailable()
    share_id, link_secret = parsed
    async with c.database.unit_of_work() as session:
        row = await session.get(Share, share_id)
    if row is None:
        raise ShareUnavailable()
    link_hash = await c.blind_index.share_secret(row.tenant_id, "link", row.id, link_secret)
    if not hmac.compare_digest(link_hash.encode(), row.link_hash.encode()):
        await _refuse(c, row, reason="link_invalid", request_id=request_id, now=now)
        raise ShareUnavailable()
    if status_of(row, now) != ACTIVE:
        await _refuse(c, row, reason="share_unavailable", request_id=request_id, now=now)
        raise ShareUnavailable()
    pin = pin.strip()
    pin_hash = await c.blind_index.share_secret(row.tenant_id, "pin", row.id, pin[:32])
    if not (pin.isdigit() and hmac.compare_digest(pin_hash.encode(), row.pin_hash.encode())):
        await _wrong_pin(c, row, request_id=request_id, now=now)
    opened = await _content(c, row)
    # One opening: only the request that moves the share from active to opened serves it,
    # and only after the opening is audited (no record, no content).
    async with c.database.unit_of_work() as session:
        moved = await session.execute(
            update(Share)
            .where(
                Share.id == row.id,
                Share.status == ACTIVE,
                Share.failed_attempts < Share.max_attempts,
            )
            .values(status=OPENED, opened_at=now, **_wiped())
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            raise ShareUnavailable()
        await _audit_open(
            c, session, row, outcome=audit.SUCCESS, reason=None, request_id=request_id, now=now
        )
        events.share_ended(
            session,
            tenant_id=row.tenant_id,
            share_id=row.id,
            user_id=row.created_by,
            opened=True,
            at=now,
        )
    c.wake_relay()
    return opened


async def _wrong_pin(c: Components, row: Share, *, request_id: str, now: datetime) -> None:
    """Counts a wrong PIN (audited); the last allowed one kills the share. Always raises."""
    async with c.database.unit_of_work() as session:
        await session.execute(
            update(Share)
            .where(Share.id == row.id, Share.status == ACTIVE)
            .values(failed_attempts=Share.failed_attempts + 1)
        )
        current = await session.get(Share, row.id, populate_existing=True)
        assert current is not None
        if current.status != ACTIVE:
            dead = True
        elif current.failed_attempts >= current.max_attempts:
            dead = True
            current.status = LOCKED
            for column in _SEALED_PAYLOAD:
                setattr(current, column, None)
            events.share_ended(
                session,
                tenant_id=row.tenant_id,
                share_id=row.id,
                user_id=row.created_by,
                opened=False,
                at=now,
            )
        else:
            dead = False
        attempts_left = max(current.max_attempts - current.failed_attempts, 0)
        await _audit_open(
            c,
            session,
            row,
            outcome=audit.DENIED,
            reason="share_locked" if dead else "pin_wrong",
            request_id=request_id,
            now=now,
        )
    if dead:
        c.wake_relay()
        raise ShareUnavailable()
    raise PinWrong(attempts_left)
