"""Contract documents: encrypted under the customer's data key, every download audited.

The declared content type must match the document's own signature (a PDF
starts with ``%PDF-``), so a file cannot pose as another type to whoever
opens it. The SHA-256 of the plaintext is recorded to prove later which
document was stored.
"""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from customer_vault import audit
from customer_vault.components import Components
from customer_vault.crypto import CustomerCipher
from customer_vault.keys import Erased
from customer_vault.models import Contract, Customer, Grant, Site
from customer_vault.records.site_secrets import CONTRACTS
from customer_vault.validation import required_text
from customer_vault.visibility import Caller, Reach, active_grant_clause, load_customer
from fieldvault_platform import limits
from fieldvault_platform.errors import InvalidArgument, NotFound, PermissionDenied

TABLE = "contracts"
DOWNLOAD_ACTION = "contract.download"
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "text/plain": (),
}
_UNSAFE_FILENAME_CHARACTERS = set('/\\:*?"<>|')


@dataclass(frozen=True)
class ContractView:
    row: Contract
    filename: str


def check_filename(filename: str) -> str:
    name = required_text("filename", filename, limits.FILENAME)
    if name in {".", ".."} or _UNSAFE_FILENAME_CHARACTERS & set(name):
        raise InvalidArgument('filename must not contain path separators or any of *?"<>|:')
    # Control and invisible format characters (a right-to-left override shows
    # "\u202egpj.exe" as "exe.jpg") have no place in a name shown to people.
    if any(unicodedata.category(char) in {"Cc", "Cf"} for char in name):
        raise InvalidArgument("filename must not contain control or invisible characters")
    return name


def check_content(content_type: str, content: bytes, limit: int) -> None:
    if content_type not in _SIGNATURES:
        raise InvalidArgument(f"content_type must be one of: {', '.join(sorted(_SIGNATURES))}")
    if not content:
        raise InvalidArgument("the document is empty")
    if len(content) > limit:
        raise InvalidArgument(
            f"the document is larger than {limit} bytes", code="payload_too_large"
        )
    signatures = _SIGNATURES[content_type]
    if signatures and not any(content.startswith(sig) for sig in signatures):
        raise InvalidArgument(f"the document's content is not {content_type}")
    if content_type == "text/plain":
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidArgument("a text/plain document must be UTF-8") from None


def check_document(filename: str, content_type: str, content: bytes, limit: int) -> tuple[str, str]:
    """The checked filename and bare content type of an upload, or InvalidArgument."""
    name = check_filename(filename)
    content_type = content_type.split(";")[0].strip().lower()
    check_content(content_type, content, limit)
    return name, content_type


def sealed_document(
    cipher: CustomerCipher,
    table: str,
    document_id: str,
    *,
    name: str,
    content_type: str,
    content: bytes,
) -> dict[str, Any]:
    """A document row's stored fields: name and content sealed to that row, size, SHA-256."""
    return {
        "filename_ct": cipher.seal(table, document_id, "filename", name),
        "content_type": content_type,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "content_ct": cipher.seal(table, document_id, "content", content),
    }


async def upload_contract(
    c: Components,
    caller: Caller,
    *,
    customer_id: str,
    filename: str,
    content_type: str,
    content: bytes,
    request_id: str,
    now: datetime,
) -> ContractView:
    name, content_type = check_document(
        filename, content_type, content, c.settings.max_contract_bytes
    )
    async with c.database.unit_of_work() as session:
        customer = await load_customer(session, caller, customer_id)
    cipher = await c.keys.cipher(customer)
    contract_id = str(uuid.uuid4())
    row = Contract(
        id=contract_id,
        tenant_id=caller.tenant_id,
        customer_id=customer.id,
        **sealed_document(
            cipher, TABLE, contract_id, name=name, content_type=content_type, content=content
        ),
        uploaded_by=caller.name,
        created_at=now,
    )
    async with c.database.unit_of_work() as session:
        session.add(row)
        await c.audit.record(
            session,
            tenant_id=caller.tenant_id,
            actor=audit.AuditActor.of(caller.principal),
            entry=audit.Entry(
                action="contract.upload",
                resource_type="contract",
                resource_id=contract_id,
                customer_id=customer.id,
                request_id=request_id,
            ),
            now=now,
        )
    return ContractView(row, name)


async def _readable_customer(
    c: Components, caller: Caller, customer_id: str, now: datetime
) -> Customer:
    """Office staff through the customer's visibility; technicians through a contracts grant.

    A subcontractor's grant counts only while the organisation's DPA is active.
    """
    async with c.database.unit_of_work() as session:
        if caller.reach is not Reach.GRANTS:
            return await load_customer(session, caller, customer_id)
        grants = (
            await session.scalars(
                select(Grant)
                .join(Site, Site.id == Grant.site_id)
                .where(Site.customer_id == customer_id, active_grant_clause(caller, now))
            )
        ).all()
        customer = await session.scalar(
            select(Customer).where(
                Customer.id == customer_id, Customer.tenant_id == caller.tenant_id
            )
        )
    contract_grants = [grant for grant in grants if CONTRACTS in grant.fields]
    if customer is None or not contract_grants:
        raise NotFound("customer not found")
    for grant in contract_grants:
        if not grant.subcontractor or await c.dpa.is_active(
            caller.tenant_id, grant.organization_id
        ):
            return customer
    raise PermissionDenied(
        "your organisation has no active data-processing agreement", code="dpa_inactive"
    )


async def list_contracts(
    c: Components, caller: Caller, *, customer_id: str, now: datetime
) -> list[ContractView]:
    customer = await _readable_customer(c, caller, customer_id, now)
    if customer.erased:
        raise Erased()
    async with c.database.unit_of_work() as session:
        rows = (
            await session.scalars(
                select(Contract)
                .where(Contract.customer_id == customer.id)
                .order_by(Contract.created_at, Contract.id)
            )
        ).all()
    cipher = await c.keys.cipher(customer)
    return [
        ContractView(row, cipher.open(TABLE, row.id, "filename", row.filename_ct)) for row in rows
    ]


async def download_contract(
    c: Components, caller: Caller, *, contract_id: str, request_id: str, now: datetime
) -> tuple[ContractView, bytes]:
    async with c.database.unit_of_work() as session:
        row = await session.scalar(
            select(Contract).where(
                Contract.id == contract_id, Contract.tenant_id == caller.tenant_id
            )
        )
    if row is None:
        raise NotFound("contract not found")
    customer = await _readable_customer(c, caller, row.customer_id, now)
    if customer.erased or row.content_ct is None:
        raise Erased()
    cipher = await c.keys.cipher(customer)
    content = cipher.open_bytes(TABLE, row.id, "content", row.content_ct)
    filename = cipher.open(TABLE, row.id, "filename", row.filename_ct)
    # Audited before the content leaves: no record, no download.
    async with c.database.unit_of_work() as session:
        await c.audit.record(
            session,
            tenant_id=caller.tenant_id,
            actor=audit.AuditActor.of(caller.principal),
            entry=audit.Entry(
                action=DOWNLOAD_ACTION,
                resource_type="contract",
                resource_id=row.id,
                customer_id=customer.id,
                fields=[CONTRACTS],
                request_id=request_id,
            ),
            now=now,
        )
    return ContractView(row, filename), content
