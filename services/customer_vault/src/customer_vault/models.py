"""customer_vault tables.

Every personal field and every secret is stored as AES-256-GCM ciphertext
(``*_ct`` columns, see :mod:`customer_vault.crypto`) under the customer's
data key; the data key itself is stored only wrapped by the tenant's key in
Vault Transit. Email, phone and name are findable through keyed blind indexes;
door, alarm and key-safe codes have no index or hash of any kind.

The service's own tables are declared on :class:`Base`. Its migrations also
create the platform's outbox and processed-event tables in its database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fieldvault_platform.db import service_metadata
from fieldvault_platform.events import OutboxEvent

ID = 36
TENANT = 64


class Base(DeclarativeBase):
    metadata = service_metadata()


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT))
    area_id: Mapped[str | None] = mapped_column(String(ID))
    #: The data key wrapped by the tenant's Transit key; None once erased
    #: (crypto-shredding: nothing stored here can be decrypted any more).
    wrapped_key: Mapped[str | None] = mapped_column(Text)
    #: Tenant key version ``wrapped_key`` is wrapped with (rotation bookkeeping).
    key_version: Mapped[int] = mapped_column(Integer)
    name_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    email_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    address_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    notes_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Keyed blind indexes (Vault Transit HMAC of the normalised value).
    email_index: Mapped[str | None] = mapped_column(String(128))
    phone_index: Mapped[str | None] = mapped_column(String(128))
    #: None for a customer written before names were indexed, until its next write.
    name_index: Mapped[str | None] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_customers_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_customers_tenant_email", "tenant_id", "email_index"),
        Index("ix_customers_tenant_phone", "tenant_id", "phone_index"),
        Index("ix_customers_tenant_name", "tenant_id", "name_index"),
        Index("ix_customers_tenant_key_version", "tenant_id", "key_version"),
    )

    @property
    def erased(self) -> bool:
        return self.wrapped_key is None


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    area_id: Mapped[str] = mapped_column(String(ID))
    name_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    address_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    access_instructions_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_sites_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_sites_customer", "customer_id"),
    )


class SiteSecret(Base):
    """One version of a door, alarm or key-safe code. No index, no hash: ciphertext only."""

    __tablename__ = "site_secrets"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    kind: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    #: None once the customer is erased.
    value_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Which associated data ``value_ct`` is sealed with: 1 (rows written before
    #: 0006) names the record and kind; 2 also names the site, so a row moved to
    #: another site of the same customer no longer decrypts. Key rotation and
    #: the site's next code write re-seal version 1 rows.
    aad_version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    written_by: Mapped[str] = mapped_column(String(100))
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("site_id", "kind", "version"),)


class Contract(Base):
    __tablename__ = "contracts"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    filename_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    content_type: Mapped[str] = mapped_column(String(100))
    #: Size and SHA-256 of the plaintext: None once the customer is erased (a
    #: hash of a known document would still prove what it said).
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    content_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_contracts_customer", "customer_id", "created_at"),)


class OrganizationKey(Base):
    """The data key of a subcontractor organisation's documents (its DPA), wrapped like a
    customer's. Its cipher binds documents to ``org:<organization_id>``."""

    __tablename__ = "organization_keys"

    tenant_id: Mapped[str] = mapped_column(String(TENANT), primary_key=True)
    organization_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    wrapped_key: Mapped[str | None] = mapped_column(Text)
    key_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_organization_keys_key_version", "tenant_id", "key_version"),)

    @property
    def id(self) -> str:
        """The key holder's name in associated data and the cache (never a customer id)."""
        return f"org:{self.organization_id}"


class DpaDocument(Base):
    """A subcontractor's signed data-processing agreement, encrypted; identity refers to it."""

    __tablename__ = "dpa_documents"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT))
    organization_id: Mapped[str] = mapped_column(String(ID))
    filename_ct: Mapped[bytes] = mapped_column(LargeBinary)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    content_ct: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_dpa_documents_organization", "tenant_id", "organization_id", "created_at"),
    )


class Grant(Base):
    """Who may reveal which fields of a site, for which work order, when."""

    __tablename__ = "grants"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    #: None: the organisation as a whole is the grantee.
    user_id: Mapped[str | None] = mapped_column(String(ID))
    organization_id: Mapped[str] = mapped_column(String(ID))
    #: ``user:<id>`` or ``org:<id>``: one unrevoked grant per work order and grantee.
    grantee: Mapped[str] = mapped_column(String(ID + 8))
    subcontractor: Mapped[bool] = mapped_column(Boolean)
    fields: Mapped[list[str]] = mapped_column(JSON)
    work_order_id: Mapped[str] = mapped_column(String(ID))
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    granted_by: Mapped[str] = mapped_column(String(100))
    on_behalf_of: Mapped[str | None] = mapped_column(String(ID))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoke_reason: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index(
            "uq_grants_open_per_work_order_grantee",
            "tenant_id",
            "work_order_id",
            "grantee",
            unique=True,
            postgresql_where=text("revoked_at IS NULL"),
            sqlite_where=text("revoked_at IS NULL"),
        ),
        Index("ix_grants_site", "tenant_id", "site_id"),
        Index("ix_grants_user", "tenant_id", "user_id"),
        Index("ix_grants_organization", "tenant_id", "organization_id"),
    )


class DirectoryUser(Base):
    """What identity's events said about a user: their organisation, and whether they
    were deactivated (for good). Users never mentioned by an event have no row."""

    __tablename__ = "directory_users"

    tenant_id: Mapped[str] = mapped_column(String(TENANT), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    #: The organisation of the latest move; None while only a deactivation is known.
    organization_id: Mapped[str | None] = mapped_column(String(ID))
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: When identity made the change this row reflects (later events win).
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InstructionsVersion(Base):
    """A version of a tenant's data-handling instructions, as identity's event announced it:
    from ``effective_from`` on, people must have acknowledged it (or a newer one)."""

    __tablename__ = "instruction_versions"

    tenant_id: Mapped[str] = mapped_column(String(TENANT), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    effective_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InstructionsAcknowledgement(Base):
    """The newest version of the instructions a person acknowledged (from identity)."""

    __tablename__ = "instruction_acknowledgements"

    tenant_id: Mapped[str] = mapped_column(String(TENANT), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class AuditRecord(Base):
    """Append-only, hash-chained per tenant. The migration forbids UPDATE and DELETE."""

    __tablename__ = "audit_records"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT))
    sequence: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(100))
    actor_organization_id: Mapped[str | None] = mapped_column(String(ID))
    on_behalf_of: Mapped[str | None] = mapped_column(String(ID))
    action: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[str | None] = mapped_column(String(ID))
    customer_id: Mapped[str | None] = mapped_column(String(ID))
    site_id: Mapped[str | None] = mapped_column(String(ID))
    fields: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    request_id: Mapped[str | None] = mapped_column(String(100))
    trace_id: Mapped[str | None] = mapped_column(String(32))
    break_glass: Mapped[bool] = mapped_column(Boolean, default=False)
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("tenant_id", "sequence"),
        Index("ix_audit_records_actor", "tenant_id", "actor_id", "action", "occurred_at"),
        Index("ix_audit_records_customer", "tenant_id", "customer_id"),
        Index("ix_audit_records_time", "tenant_id", "occurred_at"),
    )


class TenantKeyState(Base):
    """Per tenant: which Transit key versions are destroyed (or about to be).

    Storing a new wrapped data key and deciding to destroy old key versions
    both lock this row, so a data key handed out under a version that is then
    destroyed can never be stored (see :mod:`customer_vault.keys`).
    """

    __tablename__ = "tenant_key_states"

    tenant_id: Mapped[str] = mapped_column(String(TENANT), primary_key=True)
    #: Data keys wrapped with a version below this are refused: it is retired.
    retired_below: Mapped[int] = mapped_column(Integer)


class AuditChainHead(Base):
    """The last link of a tenant's chain: appends serialise on this row.

    It changes with every append, so it is not append-only like the records;
    ``mac`` (a Vault Transit HMAC of tenant, sequence and hash, under a key the
    database owner does not hold) is what makes a rewound or deleted head
    detectable (see :mod:`customer_vault.audit`).
    """

    __tablename__ = "audit_chain_heads"

    tenant_id: Mapped[str] = mapped_column(String(TENANT), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    #: None only before the first append under this scheme (or for a fresh head).
    mac: Mapped[str | None] = mapped_column(String(128))


#: Everything this service's migrations create, for Alembic's ``target_metadata``.
MIGRATED_METADATA: list[MetaData] = [Base.metadata, OutboxEvent.metadata]
