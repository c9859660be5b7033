"""Retention: how long each category of data is kept, and the daily purge's bookkeeping.

A tenant's **retention policy** is a number of days per category. identity owns
it (``GET/PUT /v1/tenant/retention``) and publishes every change as
``tenant_retention_policy_changed``; each purging service keeps a local copy
(:class:`RetentionPolicyCopy`, fed by a durable consumer) so its daily purge
needs no other service. A tenant that never changed its policy has
:data:`DEFAULT_DAYS`.

- ``work_order_text`` (work_order): free text of completed or cancelled jobs
  (cleared; the job stays);
- ``inbox`` (notification): in-app inbox entries;
- ``delivery_logs`` (notification): finished e-mail/SMS and webhook deliveries;
- ``ended_grants`` (customer_vault): grants that expired or were revoked;
- ``audit_records`` (customer_vault): the oldest audit records, replaced by a
  signed checkpoint.

Each service's purge (``python -m <service> purge-retention``) is idempotent:
it removes what is past its period *now*, so a second run removes nothing new.
Runs are recorded in ``retention_runs`` (one row per run, one unique key per
day for the scheduled run, so two replicas or two CronJob pods never both run
the day) and their per-tenant counts in ``retention_run_counts``: counts only,
never content. :func:`last_report` answers ``GET /v1/retention/report``.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fieldvault_platform.auth import Principal, PrincipalKind
from fieldvault_platform.db import Database, as_utc, service_metadata
from fieldvault_platform.errors import InvalidArgument, PermissionDenied

log = logging.getLogger(__name__)

WORK_ORDER_TEXT = "work_order_text"
INBOX = "inbox"
DELIVERY_LOGS = "delivery_logs"
ENDED_GRANTS = "ended_grants"
AUDIT_RECORDS = "audit_records"

#: Every category, in the order reports list them.
CATEGORIES: tuple[str, ...] = (
    WORK_ORDER_TEXT,
    INBOX,
    DELIVERY_LOGS,
    ENDED_GRANTS,
    AUDIT_RECORDS,
)

#: Which service purges which categories.
SERVICE_CATEGORIES: Mapping[str, tuple[str, ...]] = {
    "work_order": (WORK_ORDER_TEXT,),
    "notification": (INBOX, DELIVERY_LOGS),
    "customer_vault": (ENDED_GRANTS, AUDIT_RECORDS),
}

#: Days kept when a tenant has not chosen otherwise.
DEFAULT_DAYS: Mapping[str, int] = {
    WORK_ORDER_TEXT: 730,  # two years after the job was completed or cancelled
    INBOX: 180,
    DELIVERY_LOGS: 90,
    ENDED_GRANTS: 365,
    AUDIT_RECORDS: 2190,  # six years: the trail is the evidence of who saw which code
}

#: The shortest period a tenant may choose. The audit trail must outlive the
#: questions asked of it (a year at least); the rest must survive a month so a
#: dispute or a failed delivery can still be looked into.
MINIMUM_DAYS: Mapping[str, int] = {
    WORK_ORDER_TEXT: 30,
    INBOX: 7,
    DELIVERY_LOGS: 7,
    ENDED_GRANTS: 30,
    AUDIT_RECORDS: 365,
}

#: The longest period: ten years (nothing is kept forever by accident).
MAXIMUM_DAYS = 3650


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Days kept per category; build it with :func:`validated` or :data:`DEFAULT_POLICY`."""

    days: Mapping[str, int]

    def period(self, category: str) -> timedelta:
        return timedelta(days=self.days[category])

    def cutoff(self, category: str, now: datetime) -> datetime:
        """Older than this is past retention."""
        return now - self.period(category)


def validated(days: Mapping[str, int]) -> RetentionPolicy:
    """A policy from the days given, the defaults for the rest; refuses what is out of bounds.

    The error names the category and the bound, never anything else.
    """
    unknown = sorted(set(days) - set(CATEGORIES))
    if unknown:
        raise InvalidArgument(
            f"unknown retention category {unknown[0]!r}; known: {', '.join(CATEGORIES)}",
            code="invalid_retention_policy",
        )
    merged = dict(DEFAULT_DAYS)
    for category, value in days.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidArgument(
                f"{category}: the period must be a whole number of days",
                code="invalid_retention_policy",
            )
        if value < MINIMUM_DAYS[category]:
            raise InvalidArgument(
                f"{category}: at least {MINIMUM_DAYS[category]} days must be kept",
                code="retention_below_minimum",
            )
        if value > MAXIMUM_DAYS:
            raise InvalidArgument(
                f"{category}: at most {MAXIMUM_DAYS} days may be kept",
                code="invalid_retention_policy",
            )
        merged[category] = value
    return RetentionPolicy(days=merged)


DEFAULT_POLICY = RetentionPolicy(days=dict(DEFAULT_DAYS))


# --- tables (each purging service's migration creates them) -------------------------


class RetentionBase(DeclarativeBase):
    """The retention tables; a purging service adds this metadata to its migrated set."""

    metadata = service_metadata()


class RetentionPolicyCopy(RetentionBase):
    """This service's copy of a tenant's policy, from ``tenant_retention_policy_changed``."""

    __tablename__ = "retention_policies"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: Days per category (every category: identity sends the whole policy).
    days: Mapped[dict[str, int]] = mapped_column(JSON)
    #: identity's version of the policy: an older event never overwrites a newer one.
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RetentionRun(RetentionBase):
    __tablename__ = "retention_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    #: ``daily:<date>`` for the scheduled run (unique: one per day whoever starts
    #: it), ``now:<uuid>`` for one an operator asked for.
    run_key: Mapped[str] = mapped_column(String(64), unique=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RetentionRunCount(RetentionBase):
    __tablename__ = "retention_run_counts"

    run_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    purged: Mapped[int] = mapped_column(Integer)


# --- policies ---------------------------------------------------------------------


async def apply_policy_change(
    session: AsyncSession,
    *,
    tenant_id: str,
    days: Mapping[str, int],
    version: int,
    now: datetime,
) -> bool:
    """Store a tenant's policy from identity's event unless a newer one is already here.

    Values out of bounds (an identity that validates differently) fall back to
    :func:`validated`'s refusal: the event is then parked, not half-applied.
    """
    policy = validated(days)
    current = await session.get(RetentionPolicyCopy, tenant_id, with_for_update=True)
    if current is None:
        session.add(
            RetentionPolicyCopy(
                tenant_id=tenant_id, days=dict(policy.days), version=version, updated_at=now
            )
        )
        return True
    if current.version >= version:
        return False
    current.days, current.version, current.updated_at = dict(policy.days), version, now
    return True


async def policy_of(session: AsyncSession, tenant_id: str) -> RetentionPolicy:
    copy = await session.get(RetentionPolicyCopy, tenant_id)
    return DEFAULT_POLICY if copy is None else validated(copy.days)


async def tenant_policies(session: AsyncSession) -> dict[str, RetentionPolicy]:
    """Every tenant that chose a policy; the others have :data:`DEFAULT_POLICY`."""
    rows = (await session.scalars(select(RetentionPolicyCopy))).all()
    return {row.tenant_id: validated(row.days) for row in rows}


# --- runs -------------------------------------------------------------------------


def daily_key(now: datetime) -> str:
    return f"daily:{as_utc(now).date().isoformat()}"


async def claim_run(database: Database, *, run_key: str, now: datetime) -> str | None:
    """Start a run under ``run_key``; None when that key already ran (another replica, today)."""
    run_id = str(uuid.uuid4())
    try:
        async with database.unit_of_work() as session:
            session.add(RetentionRun(id=run_id, run_key=run_key, started_at=now))
    except IntegrityError:
        return None
    return run_id


async def finish_run(
    session: AsyncSession,
    *,
    run_id: str,
    counts: Mapping[tuple[str, str], int],
    now: datetime,
) -> None:
    """Record a run's counts per (tenant, category) and mark it finished."""
    for (tenant_id, category), purged in sorted(counts.items()):
        session.add(
            RetentionRunCount(run_id=run_id, tenant_id=tenant_id, category=category, purged=purged)
        )
    run = await session.get(RetentionRun, run_id)
    if run is not None:
        run.finished_at = now


@dataclass(frozen=True, slots=True)
class CategoryReport:
    category: str
    #: When the last finished run of this service ended; None if none has.
    last_run_at: datetime | None
    #: What that run purged for the tenant.
    purged: int
    #: The tenant's period for the category, as this service applies it.
    days: int = 0


#: Who may read the retention report: admins (tenant:manage), auditors and DPOs (audit:read).
REPORT_SCOPES = ("tenant:manage", "audit:read")


def report_tenant(principal: Principal) -> str:
    """The tenant whose report ``principal`` may read; refuses everyone else."""
    if principal.tenant_id is None or principal.kind is not PrincipalKind.USER:
        raise PermissionDenied("the retention report is for a tenant's admins, auditors and DPOs")
    if not any(principal.has_scope(scope) for scope in REPORT_SCOPES):
        raise PermissionDenied("the retention report is for a tenant's admins, auditors and DPOs")
    return principal.tenant_id


async def last_report(
    session: AsyncSession, *, tenant_id: str, categories: Sequence[str]
) -> list[CategoryReport]:
    """The tenant's counts from this service's last finished run, per category."""
    run = (
        await session.scalars(
            select(RetentionRun)
            .where(RetentionRun.finished_at.is_not(None))
            .order_by(RetentionRun.finished_at.desc())
            .limit(1)
        )
    ).first()
    if run is None:
        return [CategoryReport(category, None, 0) for category in categories]
    rows = (
        await session.scalars(
            select(RetentionRunCount).where(
                RetentionRunCount.run_id == run.id, RetentionRunCount.tenant_id == tenant_id
            )
        )
    ).all()
    purged = {row.category: row.purged for row in rows}
    finished = as_utc(run.finished_at) if run.finished_at is not None else None
    return [CategoryReport(category, finished, purged.get(category, 0)) for category in categories]


async def tenant_report(
    session: AsyncSession, *, tenant_id: str, categories: Sequence[str]
) -> list[CategoryReport]:
    """:func:`last_report` with the tenant's period of each category."""
    policy = await policy_of(session, tenant_id)
    return [
        replace(report, days=policy.days[report.category])
        for report in await last_report(session, tenant_id=tenant_id, categories=categories)
    ]


Purge = Callable[
    [Mapping[str, RetentionPolicy], datetime], Awaitable[Mapping[tuple[str, str], int]]
]


async def run_purge(
    database: Database,
    purge: Purge,
    *,
    categories: Sequence[str],
    run_key: str,
    now: datetime,
) -> dict[str, int] | None:
    """One recorded run: claim ``run_key``, purge by every tenant's policy, store the counts.

    Returns the totals per category, or None when ``run_key`` was already run
    (the other replica, or an earlier start today). A run that fails stays
    unfinished and is not reported; tomorrow's run, or one asked for with
    ``--now``, purges what it left.
    """
    run_id = await claim_run(database, run_key=run_key, now=now)
    if run_id is None:
        log.info("retention purge already run", extra={"run_key": run_key})
        return None
    async with database.unit_of_work() as session:
        policies = await tenant_policies(session)
    counts = await purge(policies, now)
    async with database.unit_of_work() as session:
        await finish_run(session, run_id=run_id, counts=counts, now=datetime.now(UTC))
    totals = {category: 0 for category in categories}
    for (_tenant, category), purged in counts.items():
        totals[category] = totals.get(category, 0) + purged
    log.info("retention purge finished", extra={"purged": totals})
    return totals


def purge_command(
    service: str,
    categories: Sequence[str],
    open_purge: Callable[[], Awaitable[tuple[Database, Purge, Callable[[], Awaitable[None]]]]],
) -> Callable[[list[str]], Coroutine[Any, Any, None]]:
    """``python -m <service> purge-retention [--now]``: the daily run, or one more now.

    Without ``--now`` it is the day's scheduled run (at most one per day, so a
    CronJob that fires twice, or two of them, purge once). It prints counts only.
    """

    async def purge_retention(arguments: list[str]) -> None:
        if arguments not in ([], ["--now"]):
            sys.exit(f"usage: python -m {service} purge-retention [--now]")
        now = datetime.now(UTC)
        run_key = f"now:{uuid.uuid4()}" if arguments else daily_key(now)
        database, purge, close = await open_purge()
        try:
            totals = await run_purge(
                database, purge, categories=categories, run_key=run_key, now=now
            )
        finally:
            await close()
        if totals is None:
            print(f"{service}: today's retention purge has already run")  # noqa: T201
            return
        summary = ", ".join(f"{category} {count}" for category, count in totals.items())
        print(f"{service}: retention purge removed {summary}")  # noqa: T201

    return purge_retention


def utcnow() -> datetime:
    return datetime.now(UTC)
