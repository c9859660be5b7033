"""Exposure: what a leaver, or a lapsed organisation, knew — and the work that makes it moot.

When identity says a user was deactivated, moved to another organisation or
out of areas (then only those areas' sites count), or a subcontractor's DPA
lapsed (or was cleared), this consumer computes,
from the audit trail, what the person (or every person of the organisation)
was exposed to in the look-back window (``exposure_lookback_days``, default
365): one report per triggering event, stored in ``exposures``. Each exposed
code whose value was not changed since becomes a rotation task
(:func:`customer_vault.rotation_tasks.open_rotation_task`).

A report is a list of sections, each computed by one function of
:data:`SECTIONS` (``revealed``: codes revealed under a grant; ``break_glass``:
codes revealed by break-glass; ``physical_keys``: keys held or lost).
Adding a section is adding one entry there. Items hold ids, kinds and times only — never a value.

The consumer is durable (shared by the replicas) and idempotent: the report,
its tasks and their events commit with the processed-event row, and a report
is unique per (event, subject).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.message import Message
from nats.js import JetStreamContext
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from customer_vault import audit, rotation_tasks
from customer_vault.access.reveal import REVEAL_ACTION
from customer_vault.models import AuditRecord, Customer, Exposure, KeyCheckout, Site, SiteSecret
from customer_vault.records.key_tasks import KEY_NOT_RETURNED
from fieldvault.identity.v1 import identity_events_pb2 as pb
from fieldvault_platform.auth.contract import IDENTITY_SERVICE
from fieldvault_platform.db import Database, as_utc
from fieldvault_platform.events import ConsumerRunner, ReceivedEvent, service_subjects, stream_name
from fieldvault_platform.timestamps import from_timestamp

DURABLE = "customer_vault-exposures"

USER = "user"
ORGANIZATION = "organization"

USER_DEACTIVATED = "user_deactivated"
ORGANIZATION_CHANGED = "organization_changed"
AREAS_REMOVED = "areas_removed"
DPA_LAPSED = "dpa_lapsed"


@dataclass(frozen=True)
class Scope:
    """Whose exposure, in which window, and why it is computed."""

    tenant_id: str
    subject_kind: str
    subject_id: str
    trigger: str
    window_start: datetime
    window_end: datetime
    #: Only sites in these areas (now) count; None: every site.
    area_ids: frozenset[str] | None = None


@dataclass
class Item:
    """One thing exposed: a code (or a lock) of a site, first and last seen, by whom.

    ``task_reason`` set: the item asks for a rotation task with that reason
    (unless its value changed after ``last_at``).
    """

    site_id: str
    subject: str
    first_at: datetime
    last_at: datetime
    user_ids: set[str] = field(default_factory=set)
    count: int = 0
    task_reason: str | None = None
    #: For sections about things rather than codes (e.g. a key's id).
    reference_id: str | None = None
    #: A machine code qualifying the item (e.g. ``not_returned``).
    note: str | None = None

    def as_json(self, *, task_id: str | None, rotated_since: bool) -> dict[str, object]:
        return {
            "site_id": self.site_id,
            "subject": self.subject,
            "first_at": self.first_at.isoformat(),
            "last_at": self.last_at.isoformat(),
            "count": self.count,
            "user_ids": sorted(self.user_ids),
            "reference_id": self.reference_id,
            "note": self.note,
            "task_id": task_id,
            "rotated_since": rotated_since,
        }


Section = Callable[[AsyncSession, Scope], Awaitable[list[Item]]]


def _actor_clause(scope: Scope) -> ColumnElement[bool]:
    if scope.subject_kind == USER:
        return or_(
            AuditRecord.actor_id == scope.subject_id, AuditRecord.on_behalf_of == scope.subject_id
        )
    return AuditRecord.actor_organization_id == scope.subject_id


def _area_clause(scope: Scope) -> list[ColumnElement[bool]]:
    if scope.area_ids is None:
        return []
    in_areas = select(Site.id).where(
        Site.tenant_id == scope.tenant_id, Site.area_id.in_(sorted(scope.area_ids))
    )
    return [AuditRecord.site_id.in_(in_areas)]


async def _reveals(
    session: AsyncSession, scope: Scope, *, break_glass: bool, reason: str
) -> list[Item]:
    rows = (
        await session.execute(
            select(
                AuditRecord.site_id,
                AuditRecord.fields,
                AuditRecord.occurred_at,
                AuditRecord.actor_id,
                AuditRecord.on_behalf_of,
            )
            .where(
                AuditRecord.tenant_id == scope.tenant_id,
                AuditRecord.action == REVEAL_ACTION,
                AuditRecord.outcome == audit.SUCCESS,
                AuditRecord.break_glass.is_(break_glass),
                AuditRecord.occurred_at >= scope.window_start,
                AuditRecord.occurred_at <= scope.window_end,
                AuditRecord.site_id.is_not(None),
                _actor_clause(scope),
                *_area_clause(scope),
            )
            .order_by(AuditRecord.occurred_at)
        )
    ).all()
    items: dict[tuple[str, str], Item] = {}
    for site_id, kinds, occurred_at, actor_id, on_behalf_of in rows:
        at = as_utc(occurred_at)
        for kind in kinds:
            item = items.setdefault((site_id, kind), Item(site_id, kind, at, at))
            item.last_at = max(item.last_at, at)
            item.count += 1
            item.user_ids.add(on_behalf_of or actor_id)
            item.task_reason = reason
    return list(items.values())


async def revealed(session: AsyncSession, scope: Scope) -> list[Item]:
    """Codes revealed under a grant."""
    reason = (
        rotation_tasks.REVEALED_BY_LEAVER
        if scope.subject_kind == USER
        else rotation_tasks.REVEALED_BY_ORGANIZATION
    )
    return await _reveals(session, scope, break_glass=False, reason=reason)


async def break_glass(session: AsyncSession, scope: Scope) -> list[Item]:
    """Codes revealed by break-glass."""
    return await _reveals(session, scope, break_glass=True, reason=rotation_tasks.BREAK_GLASS)


async def physical_keys(session: AsyncSession, scope: Scope) -> list[Item]:
    """Physical keys they hold now (``held``; ``overdue`` once announced as such) or lost
    in the window (``lost``: its "change the lock" task was opened when it was marked
    lost). A key still held asks for the lock to change (``key_not_returned``)."""
    holder = (
        KeyCheckout.user_id == scope.subject_id
        if scope.subject_kind == USER
        else KeyCheckout.organization_id == scope.subject_id
    )
    rows = (
        await session.scalars(
            select(KeyCheckout)
            .where(
                KeyCheckout.tenant_id == scope.tenant_id,
                holder,
                or_(
                    KeyCheckout.closed_at.is_(None),
                    and_(
                        KeyCheckout.closed_as == "lost",
                        KeyCheckout.closed_at >= scope.window_start,
                        KeyCheckout.closed_at <= scope.window_end,
                    ),
                ),
            )
            .order_by(KeyCheckout.checked_out_at, KeyCheckout.id)
        )
    ).all()
    items = []
    for checkout in rows:
        held = checkout.closed_at is None
        note = "lost"
        if held:
            note = "overdue" if checkout.overdue_alerted_at is not None else "held"
        item = Item(
            site_id=checkout.site_id,
            subject=rotation_tasks.LOCK,
            first_at=as_utc(checkout.checked_out_at),
            last_at=scope.window_end if held else as_utc(checkout.closed_at or scope.window_end),
            user_ids={checkout.user_id},
            count=1,
            task_reason=KEY_NOT_RETURNED if held else None,
            reference_id=checkout.key_id,
            note=note,
        )
        items.append(item)
    return items


#: The report's sections, in order: (name, how it is computed).
SECTIONS: list[tuple[str, Section]] = [
    ("revealed", revealed),
    ("break_glass", break_glass),
    ("physical_keys", physical_keys),
]


async def _rotated_after(session: AsyncSession, item: Item) -> bool:
    """Whether the code got a new value after it was last seen (no task needed then)."""
    written = await session.scalar(
        select(SiteSecret.written_at)
        .where(SiteSecret.site_id == item.site_id, SiteSecret.kind == item.subject)
        .order_by(SiteSecret.version.desc())
        .limit(1)
    )
    return written is not None and as_utc(written) > item.last_at


async def _site_erased(session: AsyncSession, site_id: str) -> bool:
    erased = await session.scalar(
        select(Customer.wrapped_key.is_(None))
        .join(Site, Site.customer_id == Customer.id)
        .where(Site.id == site_id)
    )
    return erased is None or bool(erased)


async def compute_exposure(
    session: AsyncSession,
    scope: Scope,
    *,
    source_event_id: str,
    now: datetime,
    sections: Sequence[tuple[str, Section]] | None = None,
) -> Exposure | None:
    """Store the report for ``scope`` and open its tasks; None if this event made one already."""
    existing = await session.scalar(
        select(Exposure.id).where(
            Exposure.tenant_id == scope.tenant_id,
            Exposure.source_event_id == source_event_id,
            Exposure.subject_id == scope.subject_id,
        )
    )
    if existing is not None:
        return None
    report = Exposure(
        id=str(uuid.uuid4()),
        tenant_id=scope.tenant_id,
        subject_kind=scope.subject_kind,
        subject_id=scope.subject_id,
        trigger=scope.trigger,
        source_event_id=source_event_id,
        window_start=scope.window_start,
        window_end=scope.window_end,
        sections={},
        computed_at=now,
    )
    exposed = rotation_tasks.Exposed(
        user_id=scope.subject_id if scope.subject_kind == USER else None,
        organization_id=scope.subject_id if scope.subject_kind == ORGANIZATION else None,
        exposure_id=report.id,
    )
    computed: dict[str, list[dict[str, object]]] = {}
    tasks: dict[tuple[str, str], str | None] = {}
    for name, section in sections if sections is not None else SECTIONS:
        entries = []
        for item in await section(session, scope):
            rotated = await _rotated_after(session, item)
            task_id: str | None = None
            key = (item.site_id, item.subject)
            if item.task_reason and not rotated and not await _site_erased(session, item.site_id):
                if key not in tasks:
                    task = await rotation_tasks.open_rotation_task(
                        session,
                        tenant_id=scope.tenant_id,
                        site_id=item.site_id,
                        subject=item.subject,
                        reason=item.task_reason,
                        since=item.first_at,
                        dedupe_key=f"exposure:{report.id}:{item.site_id}:{item.subject}",
                        exposed=exposed,
                        now=now,
                    )
                    tasks[key] = task.id if task else None
                task_id = tasks[key]
            entries.append(item.as_json(task_id=task_id, rotated_since=rotated))
        computed[name] = entries
    report.sections = computed
    session.add(report)
    await session.flush()
    return report


#: The identity events that make a report: event type -> (its message, whom the
#: report is about, the message field naming them, why it was made).
_TRIGGERS: dict[str, tuple[type[Message], str, str, str]] = {
    message.DESCRIPTOR.full_name: (message, kind, subject_field, trigger)
    for message, kind, subject_field, trigger in (
        (pb.UserDeactivated, USER, "user_id", USER_DEACTIVATED),
        (pb.UserOrganizationChanged, USER, "user_id", ORGANIZATION_CHANGED),
        (pb.UserAreasRemoved, USER, "user_id", AREAS_REMOVED),
        (pb.OrganizationDpaLapsed, ORGANIZATION, "organization_id", DPA_LAPSED),
    )
}


class ExposureReports:
    """The handler: which identity events make a report, about whom."""

    def __init__(self, lookback_days: int) -> None:
        self._lookback = timedelta(days=lookback_days)

    async def __call__(self, session: AsyncSession, event: ReceivedEvent) -> None:
        trigger = _TRIGGERS.get(event.event_type or "")
        if trigger is None:
            return
        message_class, kind, subject_field, reason = trigger
        message: Any = message_class.FromString(event.payload)
        now = datetime.now(UTC)
        at = from_timestamp(message, "occurred_at") or now
        # Only a removal from areas narrows the report to the areas removed.
        areas = frozenset(message.area_ids) if reason == AREAS_REMOVED else None
        scope = Scope(
            message.tenant_id,
            kind,
            getattr(message, subject_field),
            reason,
            at - self._lookback,
            at,
            areas,
        )
        await compute_exposure(session, scope, source_event_id=event.event_id, now=now)


async def latest_exposure(
    database: Database, tenant_id: str, subject_kind: str, subject_id: str
) -> Exposure | None:
    async with database.unit_of_work() as session:
        report: Exposure | None = await session.scalar(
            select(Exposure)
            .where(
                and_(
                    Exposure.tenant_id == tenant_id,
                    Exposure.subject_kind == subject_kind,
                    Exposure.subject_id == subject_id,
                )
            )
            .order_by(Exposure.computed_at.desc(), Exposure.id)
            .limit(1)
        )
    return report


def exposure_consumer(
    database: Database, jetstream: JetStreamContext, *, lookback_days: int
) -> ConsumerRunner:
    return ConsumerRunner(
        database,
        jetstream,
        stream=stream_name(IDENTITY_SERVICE),
        durable=DURABLE,
        filter_subject=service_subjects(IDENTITY_SERVICE),
        handler=ExposureReports(lookback_days),
    )
