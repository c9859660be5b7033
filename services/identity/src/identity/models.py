"""identity tables.

The service's own tables are declared on :class:`Base`. Its migrations also
create the platform's outbox and processed-event tables in its database.

Nothing secret is stored in a form that gives it back: passwords are argon2id
hashes, refresh tokens and API-client secrets are keyed or plain SHA-256
digests (they are high-entropy random values), invitation tokens are not
stored at all (they are derived, see :mod:`identity.directory.invitations`),
and TOTP seeds are Vault Transit ciphertext.

Every row belongs to one tenant and every query filters on ``tenant_id``.
Mutable rows carry a ``version`` (the etag).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fieldvault_platform.db import service_metadata
from fieldvault_platform.events import OutboxEvent

#: Length of the opaque ids (UUID4 strings).
ID = 36


class Base(DeclarativeBase):
    metadata = service_metadata()


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Roles whose users must have a confirmed second factor.
    mfa_required_roles: Mapped[list[str]] = mapped_column(JSON)
    #: A dispatcher's break-glass reveal needs a fresh TOTP code (step-up).
    break_glass_step_up_required: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)


class Organization(Base):
    __tablename__ = "organizations"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # "own" | "subcontractor"
    dpa_signed_on: Mapped[date | None] = mapped_column(Date)
    #: Last day (UTC) the DPA is valid.
    dpa_expires_on: Mapped[date | None] = mapped_column(Date)
    #: The expiry date whose lapse has been announced, so the lapse detector
    #: publishes each lapse once, whichever replica sees it first.
    dpa_lapse_announced_for: Mapped[date | None] = mapped_column(Date)
    #: The signed DPA's document id in customer-vault (where it is stored encrypted).
    dpa_document_id: Mapped[str | None] = mapped_column(String(ID))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)


class Area(Base):
    __tablename__ = "areas"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("tenant_id", "email"),)

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    #: Normalised (trimmed, lower-cased); unique per tenant.
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # "invited" | "active" | "deactivated"
    #: argon2id; None until the invitation is accepted.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: Vault Transit ciphertext of the TOTP seed (enrolled, maybe not yet confirmed).
    totp_secret_ciphertext: Mapped[str | None] = mapped_column(String(512))
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Last accepted TOTP time step, so a code cannot be replayed.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)


class UserArea(Base):
    __tablename__ = "user_areas"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    area_id: Mapped[str] = mapped_column(ForeignKey("areas.id"), primary_key=True, index=True)


class Invitation(Base):
    """A single-use, expiring invitation. The token is derived, never stored."""

    __tablename__ = "invitations"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Set when superseded or when the user is deactivated.
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginSession(Base):
    """One login: what ``sid`` names in every token issued from it."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    #: Authentication methods of the login, e.g. ["pwd", "otp"].
    amr: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: Absolute end; refreshing never extends it.
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class RefreshToken(Base):
    """One refresh token of a session; spent on first use (rotation)."""

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    #: SHA-256 (hex) of the opaque token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: Set by the one refresh that wins; presenting it again is reuse.
    spent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiClient(Base):
    """A partner system's OAuth2 client-credentials identity."""

    __tablename__ = "api_clients"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    #: Keyed hash (HMAC-SHA256) of the secret, hex.
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(ID))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditRecord(Base):
    """Identity's audit log: every authentication and admin action, never a secret."""

    __tablename__ = "audit_records"
    __table_args__ = (Index("ix_audit_records_tenant_time", "tenant_id", "occurred_at"),)

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    #: None for actions before a tenant is known (e.g. a login naming no tenant).
    tenant_id: Mapped[str | None] = mapped_column(String(ID))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # "success" | "failure"
    target_id: Mapped[str | None] = mapped_column(String(100))
    source_address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(200))


class LoginThrottle(Base):
    """Failed-login bookkeeping per account or per source (see :mod:`identity.throttling`).

    ``key`` is a SHA-256 of the normalised account (tenant + e-mail) or source
    address, so the table holds no e-mail addresses or IP addresses in clear.
    """

    __tablename__ = "login_throttle"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)  # "account" | "source"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class HandlingInstructionsVersion(Base):
    """One published version of a tenant's data-handling instructions (never changed)."""

    __tablename__ = "handling_instructions"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    markdown: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: published_at + grace_days: from then on this version is the one required.
    effective_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    grace_days: Mapped[int] = mapped_column(Integer)
    published_by: Mapped[str] = mapped_column(String(ID))


class InstructionsAcknowledgement(Base):
    """A person read and accepted one version; one row per (person, version)."""

    __tablename__ = "instruction_acknowledgements"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    acknowledged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


#: Everything this service's migrations create, for Alembic's ``target_metadata``.
class TenantRetentionPolicy(Base):
    """How long the tenant keeps each category (days); absent: the defaults.

    Only the categories an admin set are stored; the rest follow the defaults
    of :mod:`fieldvault_platform.retention` (so a better default reaches them).
    """

    __tablename__ = "tenant_retention_policies"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    days: Mapped[dict[str, int]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


MIGRATED_METADATA: list[MetaData] = [Base.metadata, OutboxEvent.metadata]
