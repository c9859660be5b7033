"""Backlog gauges: what is waiting in a service's own tables, sampled periodically.

An on-call engineer's first questions — is the outbox backing up, are events
being parked, are grant changes stuck — are answered by counting rows, so
:class:`BacklogSampler` runs a few cheap queries every ``interval`` seconds in
a background job and sets gauges (:mod:`fieldvault_platform.metrics`). The
gauges are labelled by service or consumer name only: counts and ages, never
which tenant or record is waiting.

Each service's :class:`~fieldvault_platform.service.ServicePlumbing` samples
the outbox and the parked events; a service adds probes for its own tables
(work-order's grant tasks, notification's deliveries) with :meth:`BacklogSampler.add`.
A probe that fails is logged by its name and error type and tried again on
the next pass: a database outage must not stop the service.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.db import Database, as_utc
from fieldvault_platform.events._waiting import wait_any
from fieldvault_platform.events.consumer import ParkedEvent
from fieldvault_platform.events.outbox import OutboxEvent
from fieldvault_platform.metrics import EVENTS_PARKED, OUTBOX_OLDEST_AGE, OUTBOX_PENDING

log = logging.getLogger(__name__)

#: A probe reads its tables in the session given and sets its gauges.
Probe = Callable[[AsyncSession], Awaitable[None]]

#: Seconds between two samples: well under a scrape interval's usual 30 s.
DEFAULT_INTERVAL = 15.0


def age_seconds(oldest: datetime | None, now: datetime) -> float:
    """Seconds since ``oldest`` (0 when nothing is waiting)."""
    return 0.0 if oldest is None else max(0.0, (now - as_utc(oldest)).total_seconds())


def outbox_probe(service: str) -> Probe:
    """Pending outbox rows and the age of the oldest one."""
    OUTBOX_PENDING.labels(service).set(0)
    OUTBOX_OLDEST_AGE.labels(service).set(0)

    async def probe(session: AsyncSession) -> None:
        unpublished = OutboxEvent.published_at.is_(None)
        count, oldest = (
            await session.execute(
                select(func.count(), func.min(OutboxEvent.created_at)).where(unpublished)
            )
        ).one()
        OUTBOX_PENDING.labels(service).set(count)
        OUTBOX_OLDEST_AGE.labels(service).set(age_seconds(oldest, datetime.now(UTC)))

    return probe


def parked_probe() -> Probe:
    """Parked events by consumer (only in services that consume events)."""
    seen: set[str] = set()

    async def probe(session: AsyncSession) -> None:
        has_table = await session.run_sync(
            lambda sync: inspect(sync.connection()).has_table(ParkedEvent.__tablename__)
        )
        if not has_table:
            return
        rows = await session.execute(
            select(ParkedEvent.consumer, func.count()).group_by(ParkedEvent.consumer)
        )
        counts = {str(consumer): int(count) for consumer, count in rows.all()}
        for consumer in seen - counts.keys():
            EVENTS_PARKED.labels(consumer).set(0)  # replayed or removed since
        for consumer, count in counts.items():
            EVENTS_PARKED.labels(consumer).set(count)
        seen.update(counts)

    return probe


class BacklogSampler:
    """Runs its probes every ``interval`` seconds until stopped (a runtime background job)."""

    def __init__(self, database: Database, *, interval: float = DEFAULT_INTERVAL) -> None:
        self._database = database
        self._interval = interval
        self._probes: list[Probe] = []

    def add(self, probe: Probe) -> None:
        self._probes.append(probe)

    async def sample(self) -> None:
        """One pass over every probe, each in a read-only session of its own."""
        for probe in self._probes:
            try:
                async with self._database.sessions() as session:
                    await probe(session)
            except Exception as exc:
                log.warning(
                    "backlog probe failed; trying again on the next pass",
                    extra={
                        "probe": getattr(probe, "__qualname__", "probe"),
                        "error_type": type(exc).__name__,
                    },
                )

    async def run(self, stop_event: asyncio.Event) -> None:
        while not stop_event.is_set():
            await self.sample()
            await wait_any((stop_event,), self._interval)
