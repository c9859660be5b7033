"""Announcing DPAs that lapse by the calendar, without anyone touching the record.

Every ``interval`` the watcher looks for subcontractors whose DPA expired
before today (UTC) and whose lapse was not announced yet. Each is claimed with
a conditional UPDATE in the same transaction that adds the
``organization_dpa_lapsed`` event, so with several identity replicas running
the watcher, each lapse is announced exactly once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import or_, select, update

from fieldvault_platform.db import Database
from fieldvault_platform.polling import Poller
from identity import events
from identity.models import Organization

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DpaLapseWatcher:
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
        await Poller("dpa_lapse_watch", self._idle_pass, self._interval).run(stop_event)

    async def _idle_pass(self) -> int:
        # Never "busy": one pass per interval is the whole job.
        await self.check_once()
        return 0

    async def check_once(self) -> int:
        """Announce every lapse not announced yet; returns how many this call announced."""
        now = self._clock()
        today = now.date()
        async with self._database.unit_of_work() as session:
            candidates = (
                await session.execute(
                    select(Organization.id, Organization.dpa_expires_on).where(
                        Organization.kind == "subcontractor",
                        Organization.dpa_expires_on < today,
                        or_(
                            Organization.dpa_lapse_announced_for.is_(None),
                            Organization.dpa_lapse_announced_for != Organization.dpa_expires_on,
                        ),
                    )
                )
            ).all()
        announced = 0
        for organization_id, expires_on in candidates:
            async with self._database.unit_of_work() as session:
                claimed = await session.execute(
                    update(Organization)
                    .where(
                        Organization.id == organization_id,
                        Organization.dpa_expires_on == expires_on,
                        or_(
                            Organization.dpa_lapse_announced_for.is_(None),
                            Organization.dpa_lapse_announced_for != expires_on,
                        ),
                    )
                    .values(dpa_lapse_announced_for=expires_on)
                    .returning(Organization.tenant_id)
                )
                tenant_id = claimed.scalar_one_or_none()
                if tenant_id is None:
                    continue  # another replica (or an update) got there first
                events.organization_dpa_lapsed(
                    session,
                    tenant_id=tenant_id,
                    organization_id=organization_id,
                    expires_on=expires_on,
                    at=now,
                )
                announced += 1
        if announced:
            log.info("announced lapsed DPAs", extra={"count": announced})
            self._wake_relay()
        return announced
