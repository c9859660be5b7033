"""Claiming a due row with a lease, so two replicas never send the same thing, and
the backoff between attempts."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.backoff import jittered_backoff_seconds
from fieldvault_platform.db import Database

log = logging.getLogger(__name__)

#: How long a claimed row is left alone by other replicas while it is being sent.
LEASE = timedelta(minutes=2)


async def claim_due(database: Database, model: Any, *, batch: int) -> list[str]:
    """The ids of up to ``batch`` due pending rows of ``model``, each claimed for this replica."""
    now = datetime.now(UTC)
    async with database.unit_of_work() as session:
        due = (
            await session.scalars(
                select(model.id)
                .where(model.status == "pending", model.next_attempt_at <= now)
                .order_by(model.next_attempt_at)
                .limit(batch)
            )
        ).all()
    claimed = []
    for row_id in due:
        async with database.unit_of_work() as session:
            if await claim(session, model, row_id, now):
                claimed.append(str(row_id))
    return claimed


async def claim(session: AsyncSession, model: Any, row_id: str, now: datetime) -> bool:
    """Push the row's next attempt past the lease; False if another replica was first."""
    result = await session.execute(
        update(model)
        .where(model.id == row_id, model.status == "pending", model.next_attempt_at <= now)
        .values(next_attempt_at=now + LEASE)
    )
    return bool(getattr(result, "rowcount", 0) == 1) if isinstance(result, CursorResult) else False


def backoff(attempts: int, base: float, cap: float) -> timedelta:
    """Exponential with full jitter: a crowd of retries does not arrive together."""
    return timedelta(seconds=jittered_backoff_seconds(attempts, base=base, cap=cap))
