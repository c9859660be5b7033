"""Secret age: a tenant's longest allowed age per code kind, overdue codes, and the daily job
that opens a rotation task for each overdue code, once.

The policy lives here, beside the codes it judges (the job and the overdue list
need no other service). A kind without a limit never becomes overdue. A code's
age is that of its latest version; an erased customer's codes are not judged.

The daily job (:class:`OverdueRotationJob`) claims the day in ``job_runs``
(primary key: job and UTC date) in the same transaction that opens the tasks,
so with two replicas only one runs it; each task's dedupe key names the code's
version, so a second run — the CLI ``python -m customer_vault
open-overdue-rotation-tasks`` — opens nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from customer_vault import rotation_tasks
from customer_vault.models import Customer, JobRun, SecretAgePolicy, Site, SiteSecret
from customer_vault.records.site_secrets import SECRET_KINDS
from fieldvault_platform.db import Database, as_utc
from fieldvault_platform.errors import InvalidArgument
from fieldvault_platform.polling import Poller

log = logging.getLogger(__name__)

JOB = "overdue_rotation"
MAX_AGE_DAYS = 3650


@dataclass(frozen=True)
class OverdueSecret:
    site_id: str
    area_id: str
    kind: str
    version: int
    written_at: datetime
    max_age_days: int

    @property
    def overdue_since(self) -> datetime:
        return self.written_at + timedelta(days=self.max_age_days)


def check_policy(limits: Mapping[str, int]) -> dict[str, int]:
    checked = {}
    for kind, days in limits.items():
        if kind not in SECRET_KINDS:
            raise InvalidArgument(f"kind must be one of: {', '.join(SECRET_KINDS)}")
        if not 1 <= days <= MAX_AGE_DAYS:
            raise InvalidArgument(f"max age of {kind} must be 1-{MAX_AGE_DAYS} days")
        checked[kind] = days
    return checked


async def get_policy(session: AsyncSession, tenant_id: str) -> dict[str, int]:
    rows = (
        await session.execute(
            select(SecretAgePolicy.kind, SecretAgePolicy.max_age_days).where(
                SecretAgePolicy.tenant_id == tenant_id
            )
        )
    ).all()
    return {kind: days for kind, days in rows}


async def set_policy(
    session: AsyncSession, tenant_id: str, limits: Mapping[str, int], *, by: str, now: datetime
) -> dict[str, int]:
    """Replace the tenant's limits with ``limits`` (a kind left out has none)."""
    checked = check_policy(limits)
    for row in (
        await session.scalars(select(SecretAgePolicy).where(SecretAgePolicy.tenant_id == tenant_id))
    ).all():
        if row.kind not in checked:
            await session.delete(row)
    for kind, days in checked.items():
        current = await session.get(SecretAgePolicy, (tenant_id, kind))
        if current is None:
            session.add(
                SecretAgePolicy(
                    tenant_id=tenant_id, kind=kind, max_age_days=days, updated_by=by, updated_at=now
                )
            )
        elif current.max_age_days != days:
            current.max_age_days, current.updated_by, current.updated_at = days, by, now
    return checked


async def overdue_secrets(
    session: AsyncSession,
    tenant_id: str,
    now: datetime,
    *,
    area_ids: frozenset[str] | None = None,
    site_id: str | None = None,
    limit: int = 1000,
) -> list[OverdueSecret]:
    """The tenant's codes whose latest version is older than the policy allows, oldest first."""
    policy = await get_policy(session, tenant_id)
    if not policy:
        return []
    latest = (
        select(
            SiteSecret.site_id.label("site_id"),
            SiteSecret.kind.label("kind"),
            func.max(SiteSecret.version).label("version"),
        )
        .where(SiteSecret.tenant_id == tenant_id, SiteSecret.kind.in_(list(policy)))
        .group_by(SiteSecret.site_id, SiteSecret.kind)
        .subquery()
    )
    query = (
        select(SiteSecret, Site.area_id)
        .join(
            latest,
            and_(
                SiteSecret.site_id == latest.c.site_id,
                SiteSecret.kind == latest.c.kind,
                SiteSecret.version == latest.c.version,
            ),
        )
        .join(Site, Site.id == SiteSecret.site_id)
        .join(Customer, Customer.id == Site.customer_id)
        .where(Customer.wrapped_key.is_not(None), SiteSecret.value_ct.is_not(None))
        .order_by(SiteSecret.written_at, SiteSecret.id)
    )
    if area_ids is not None:
        query = query.where(Site.area_id.in_(sorted(area_ids)))
    if site_id is not None:
        query = query.where(SiteSecret.site_id == site_id)
    found = []
    for secret, area_id in (await session.execute(query)).all():
        days = policy[secret.kind]
        written = as_utc(secret.written_at)
        if written + timedelta(days=days) <= now:
            found.append(
                OverdueSecret(secret.site_id, area_id, secret.kind, secret.version, written, days)
            )
            if len(found) >= limit:
                break
    return found


async def open_overdue_tasks(session: AsyncSession, tenant_id: str, now: datetime) -> int:
    """One task per overdue code version; returns how many were opened now."""
    opened = 0
    for secret in await overdue_secrets(session, tenant_id, now, limit=100_000):
        task = await rotation_tasks.open_rotation_task(
            session,
            tenant_id=tenant_id,
            site_id=secret.site_id,
            subject=secret.kind,
            reason=rotation_tasks.OVERDUE,
            since=secret.written_at,
            dedupe_key=f"overdue:{secret.site_id}:{secret.kind}:{secret.version}",
            now=now,
        )
        opened += task is not None
    return opened


async def _tenants_with_policy(session: AsyncSession) -> list[str]:
    return list((await session.scalars(select(SecretAgePolicy.tenant_id).distinct())).all())


async def run_overdue_rotation(database: Database, now: datetime) -> int:
    """Open the tasks of every tenant now, whatever ran before (the operator's command)."""
    async with database.unit_of_work() as session:
        tenants = await _tenants_with_policy(session)
    opened = 0
    for tenant_id in tenants:
        async with database.unit_of_work() as session:
            opened += await open_overdue_tasks(session, tenant_id, now)
    return opened


def _utcnow() -> datetime:
    return datetime.now(UTC)


class OverdueRotationJob:
    """Background job: once per UTC day (checked every ``interval``), across replicas."""

    def __init__(
        self,
        database: Database,
        *,
        interval: float,
        wake_relay: Callable[[], None],
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._database = database
        self._interval = interval
        self._wake_relay = wake_relay
        self._clock = clock

    async def run(self, stop_event: asyncio.Event) -> None:
        """Background job: a pass now, then every ``interval`` until stopped (a failed
        pass, the database down, is logged and retried at the next one)."""
        await Poller("overdue_rotation", self._idle_pass, self._interval).run(stop_event)

    async def _idle_pass(self) -> int:
        # Never "busy": one pass per interval is the whole job.
        await self.run_once()
        return 0

    async def run_once(self) -> int | None:
        """Today's run, if no replica made it yet: tasks opened, or None when it was done."""
        now = self._clock()
        try:
            async with self._database.unit_of_work() as session:
                if await session.get(JobRun, (JOB, now.date().isoformat())) is not None:
                    return None
                run = JobRun(job=JOB, period=now.date().isoformat(), started_at=now, opened=0)
                session.add(run)
                await session.flush()  # another replica's claim fails here (or at commit)
                opened = 0
                for tenant_id in await _tenants_with_policy(session):
                    opened += await open_overdue_tasks(session, tenant_id, now)
                run.opened, run.finished_at = opened, self._clock()
        except IntegrityError:
            return None  # another replica claimed today
        if opened:
            log.info("opened rotation tasks for overdue codes", extra={"count": opened})
            self._wake_relay()
        return opened
