"""The grant-task backlog on the operator's gauges (see fieldvault_platform.backlog)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.backlog import Probe, age_seconds
from fieldvault_platform.db import as_utc
from fieldvault_platform.metrics import GRANT_TASKS_OLDEST_AGE, GRANT_TASKS_PENDING
from work_order.models import GrantTask

SERVICE = "work_order"
GRANT_TASKS_PENDING.labels(SERVICE).set(0)
GRANT_TASKS_OLDEST_AGE.labels(SERVICE).set(0)


def grant_task_probe() -> Probe:
    """Grant changes not yet applied (nor refused for good), and how long the oldest waits.

    A task row has no creation time (and its ``next_attempt_at`` moves forward
    with each retry), so the oldest pending task is the lowest ``sequence``
    (the column only grows) and its age counts from the earlier of its first
    due time and when this process first saw it pending. After a restart the
    age restarts from then: it may under-state a wait, never invent one.
    """
    first_seen: dict[int, datetime] = {}

    async def probe(session: AsyncSession) -> None:
        now = datetime.now(UTC)
        pending = GrantTask.done_at.is_(None) & GrantTask.failed_reason.is_(None)
        count, oldest_sequence = (
            await session.execute(select(func.count(), func.min(GrantTask.sequence)).where(pending))
        ).one()
        GRANT_TASKS_PENDING.labels(SERVICE).set(count)
        if oldest_sequence is None:
            first_seen.clear()
            GRANT_TASKS_OLDEST_AGE.labels(SERVICE).set(0)
            return
        due = await session.scalar(
            select(GrantTask.next_attempt_at).where(GrantTask.sequence == oldest_sequence)
        )
        seen = first_seen.setdefault(oldest_sequence, now)
        for sequence in [s for s in first_seen if s != oldest_sequence]:
            del first_seen[sequence]  # applied since: keep one entry only
        since = min(seen, as_utc(due)) if due is not None else seen
        GRANT_TASKS_OLDEST_AGE.labels(SERVICE).set(age_seconds(since, now))

    return probe
