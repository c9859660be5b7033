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
from fieldvault_platform.retention import RetentionBase

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
        Index(
            "ix_audit_records_actor_organization",
            "tenant_id",
            "actor_organization_id",
            "action",
            "occurred_at",
        ),
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


class PhysicalKey(Base):
    """A key, fob or card the company holds for a site.

    Its tag code is stored nowhere: only a keyed blind index of it (a Vault
    Transit HMAC under ``fv-blind-index-<tenant>``), so a found tag leads to its
    site only through this service. The label is ciphertext like the site's
    other data.
    """

    __tablename__ = "physical_keys"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(8))
    label_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    tag_index: Mapped[str] = mapped_column(String(128))
    #: ``in_office``, ``checked_out`` or ``lost``.
    status: Mapped[str] = mapped_column(String(16))
    #: Bumped by every movement (a lost key found and lost again opens a new task).
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lost_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("tenant_id", "tag_index", name="uq_physical_keys_tag"),
        Index("ix_physical_keys_site", "tenant_id", "site_id"),
    )


class KeyCheckout(Base):
    """A key handed to a technician for a job (their grant), until returned or lost."""

    __tablename__ = "key_checkouts"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT))
    key_id: Mapped[str] = mapped_column(ForeignKey("physical_keys.id"))
    site_id: Mapped[str] = mapped_column(String(ID))
    user_id: Mapped[str] = mapped_column(String(ID))
    organization_id: Mapped[str] = mapped_column(String(ID))
    grant_id: Mapped[str] = mapped_column(ForeignKey("grants.id"))
    work_order_id: Mapped[str] = mapped_column(String(ID))
    checked_out_by: Mapped[str] = mapped_column(String(100))
    checked_out_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: ``returned`` or ``lost``; None while the technician holds the key.
    closed_as: Mapped[str | None] = mapped_column(String(16))
    #: Set once, by whichever replica's overdue sweep wins: one alert per check-out.
    overdue_alerted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "uq_key_checkouts_open_per_key",
            "key_id",
            unique=True,
            postgresql_where=text("closed_at IS NULL"),
            sqlite_where=text("closed_at IS NULL"),
        ),
        Index("ix_key_checkouts_user", "tenant_id", "user_id"),
        Index("ix_key_checkouts_open", "closed_at", "overdue_alerted_at"),
    )


class RotationTask(Base):
    """A code (or a lock) the office must change: which, where, why and since when.

    Opened once per ``dedupe_key`` (unique per tenant), so a redelivered event
    or a second run of a daily job opens nothing new. Never carries a value.
    """

    __tablename__ = "rotation_tasks"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT))
    site_id: Mapped[str] = mapped_column(String(ID))
    #: The site's area when the task was opened (its dispatchers were told).
    area_id: Mapped[str] = mapped_column(String(ID))
    #: A code kind (``door_code`` ...) or ``lock`` for a physical key.
    subject: Mapped[str] = mapped_column(String(32))
    #: Why, as a machine code (``revealed_by_leaver``, ``break_glass``, ``overdue`` ...).
    reason: Mapped[str] = mapped_column(String(32))
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    dedupe_key: Mapped[str] = mapped_column(String(200))
    exposed_user_id: Mapped[str | None] = mapped_column(String(ID))
    exposed_organization_id: Mapped[str | None] = mapped_column(String(ID))
    exposure_id: Mapped[str | None] = mapped_column(String(ID))
    #: ``open`` or ``closed``.
    status: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: ``new_value`` or ``by_hand``.
    closed_how: Mapped[str | None] = mapped_column(String(16))
    closed_by: Mapped[str | None] = mapped_column(String(100))
    #: A dispatcher's words ("code is per visit"); never published in an event.
    close_reason: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        UniqueConstraint("tenant_id", "dedupe_key", name="uq_rotation_tasks_dedupe"),
        Index("ix_rotation_tasks_open", "tenant_id", "status", "opened_at", "id"),
        Index("ix_rotation_tasks_site", "tenant_id", "site_id", "subject", "status"),
    )


class Exposure(Base):
    """What a person or an organisation was exposed to, computed once per triggering event.

    ``sections`` maps a section name (``revealed``, ``break_glass`` ...) to
    its items: ids, kinds and times only, never a value.
    """

    __tablename__ = "exposures"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT))
    #: ``user`` or ``organization``.
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(ID))
    #: ``user_deactivated``, ``organization_changed``, ``dpa_lapsed`` ...
    trigger: Mapped[str] = mapped_column(String(32))
    #: The event that triggered it: one report per event.
    source_event_id: Mapped[str] = mapped_column(String(64))
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sections: Mapped[dict[str, list[dict[str, object]]]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("tenant_id", "source_event_id", "subject_id", name="uq_exposures_event"),
        Index("ix_exposures_subject", "tenant_id", "subject_kind", "subject_id", "computed_at"),
    )


class JobRun(Base):
    """One run of a periodic job per period (``daily``: the UTC date): the primary key
    lets only one replica claim it."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(32), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opened: Mapped[int] = mapped_column(Integer, default=0)


class SecretAgePolicy(Base):
    """A tenant's longest allowed age of a code kind, in days (no row: no limit)."""

    __tablename__ = "secret_age_policies"

    tenant_id: Mapped[str] = mapped_column(String(TENANT), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    max_age_days: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Share(Base):
    """Something shared with an external recipient: a link by e-mail, a PIN by SMS.

    The link token and the PIN are stored only as keyed hashes (Transit HMAC,
    the key never leaves Vault). What must reach the recipient — their e-mail
    address and phone number, the link token and the PIN until each is sent,
    a one-off credential until it is opened — is sealed with the share's own
    data key (wrapped by the tenant key, re-wrapped by rotation like a
    customer's) and wiped as soon as it has done its job. A shared contract or
    DPA document stays where it is, sealed under its own key, until opened.
    """

    __tablename__ = "shares"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT))
    #: contract, dpa_document or credential.
    kind: Mapped[str] = mapped_column(String(16))
    document_id: Mapped[str | None] = mapped_column(String(ID))
    #: The customer of a shared contract (its opening is in that customer's access history).
    customer_id: Mapped[str | None] = mapped_column(String(ID))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: active, opened, revoked or locked (expiry is read from ``expires_at``).
    status: Mapped[str] = mapped_column(String(16))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    wrapped_key: Mapped[str | None] = mapped_column(Text)
    key_version: Mapped[int] = mapped_column(Integer)
    link_hash: Mapped[str] = mapped_column(String(128))
    pin_hash: Mapped[str] = mapped_column(String(128))
    label_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    credential_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    email_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    link_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    pin_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    email_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sms_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_shares_sender", "tenant_id", "created_by", "created_at"),
        Index("ix_shares_key_version", "tenant_id", "key_version"),
    )


class AuditCheckpoint(Base):
    """Where a tenant's chain now starts: the last record purged for retention.

    The records up to ``sequence`` were removed (only a checkpoint that covers
    them lets the database delete them, see migration 0012); ``hash`` is the
    last removed record's hash, so the first kept record's ``previous_hash``
    must equal it. ``mac`` is the tenant's Transit HMAC of tenant, sequence,
    hash and time, so a rewritten or invented checkpoint does not verify.
    """

    __tablename__ = "audit_checkpoints"

    tenant_id: Mapped[str] = mapped_column(String(TENANT), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    #: When the last purged record happened.
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    purged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    mac: Mapped[str] = mapped_column(String(128))


#: Everything this service's migrations create, for Alembic's ``target_metadata``.
MIGRATED_METADATA: list[MetaData] = [Base.metadata, OutboxEvent.metadata, RetentionBase.metadata]
