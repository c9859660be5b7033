"""work_order tables.

A work order holds ids and job facts only — no customer data, no address, no
code: those stay in customer-vault. Grant changes that follow the job are
queued in ``grant_tasks`` in the same transaction as the change that causes
them (an outbox towards customer-vault), so an assignment is durable even
while customer-vault is down.

The service's own tables are declared on :class:`Base`. Its migrations also
create the platform's outbox and processed-event tables in its database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
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
REFERENCE = 16


class Base(DeclarativeBase):
    metadata = service_metadata()


class WorkOrder(Base):
    __tablename__ = "work_orders"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT))
    #: The tenant's short name for the job ("WO-000123"), see :mod:`work_order.references`.
    reference: Mapped[str] = mapped_column(String(REFERENCE))
    site_id: Mapped[str] = mapped_column(String(ID))
    area_id: Mapped[str] = mapped_column(String(ID))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    scheduled_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    scheduled_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assignee_user_id: Mapped[str | None] = mapped_column(String(ID))
    #: The assignee's organisation (a user's, or the organisation assigned as a whole).
    assignee_organization_id: Mapped[str | None] = mapped_column(String(ID))
    #: Set when the organisation as a whole is the assignee.
    assigned_to_organization: Mapped[bool] = mapped_column(Boolean, default=False)
    assignee_subcontractor: Mapped[bool] = mapped_column(Boolean, default=False)
    completion_notes: Mapped[str] = mapped_column(Text, default="")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    #: What the assignee told the office when they could not do the job.
    unable_notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    # Every UPDATE checks the version it read: of two concurrent changes from
    # the same etag, the second fails instead of silently overwriting.
    __mapper_args__ = {"version_id_col": version}

    __table_args__ = (
        Index("ix_work_orders_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_work_orders_assignee", "tenant_id", "assignee_user_id", "status"),
        Index("ix_work_orders_area", "tenant_id", "area_id", "status"),
        Index("ix_work_orders_site", "tenant_id", "site_id"),
        UniqueConstraint("tenant_id", "reference", name="uq_work_orders_reference"),
    )


class ReferenceCounter(Base):
    """The last reference number given in a tenant (one row per tenant)."""

    __tablename__ = "work_order_reference_counters"

    tenant_id: Mapped[str] = mapped_column(String(TENANT), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class HistoryEntry(Base):
    __tablename__ = "work_order_history"

    #: Insertion order: entries of one transaction share a timestamp.
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(ID), unique=True)
    work_order_id: Mapped[str] = mapped_column(ForeignKey("work_orders.id"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_id: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    fields: Mapped[list[str]] = mapped_column(JSON)
    #: Why the service itself changed the job (a machine code such as
    #: "user_deactivated"); None for a person's or a partner's change.
    reason: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (Index("ix_work_order_history_order", "work_order_id", "sequence"),)


class GrantTask(Base):
    """A grant to create or revoke at customer-vault, retried until it succeeds.

    Tasks of one work order are applied in ``sequence`` order (a reassignment
    revokes the old grant before it creates the new one).
    """

    __tablename__ = "grant_tasks"

    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT))
    work_order_id: Mapped[str] = mapped_column(String(ID))
    #: "create" or "revoke".
    kind: Mapped[str] = mapped_column(String(8))
    #: What the customer-vault call needs: site, grantee, window, reason, acting user.
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Set when customer-vault refused for good (e.g. the site was erased).
    failed_reason: Mapped[str | None] = mapped_column(String(200))
    #: W3C traceparent of the change that queued it ("" if untraced): the
    #: delivery, however much later, is a span of that change's trace.
    traceparent: Mapped[str] = mapped_column(String(128), default="")

    __table_args__ = (
        Index(
            "ix_grant_tasks_pending",
            "sequence",
            postgresql_where=text("done_at IS NULL"),
            sqlite_where=text("done_at IS NULL"),
        ),
    )


class GrantLease(Base):
    """Which replica delivers a work order's grant tasks, and until when.

    Two replicas delivering the same work order's tasks could land a stale
    "create" at customer-vault after the "revoke" and resurrect a grant nobody
    revokes; the lease makes one replica at a time deliver them, in order.
    """

    __tablename__ = "grant_leases"

    work_order_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    #: The GrantSync instance (one per process) that holds it.
    holder: Mapped[str] = mapped_column(String(64))
    leased_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))


#: Everything this service's migrations create, for Alembic's ``target_metadata``.
MIGRATED_METADATA: list[MetaData] = [Base.metadata, OutboxEvent.metadata, RetentionBase.metadata]
