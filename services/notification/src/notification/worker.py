"""The shape every sending job shares: a poll loop that a commit can nudge, and
claiming a due row with a lease so two replicas never send the same thing."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.db import Database
from fieldvault_platform.events._waiting import wait_any

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
    return timedelta(seconds=random.uniform(base / 2, min(cap, base * 2 ** min(attempts, 20))))  # noqa: S311


class Poller:
    """Runs ``one_pass`` every ``interval`` seconds, or at once when woken."""

    def __init__(self, name: str, one_pass: Callable[[], Awaitable[int]], interval: float) -> None:
        self._name = name
        self._one_pass = one_pass
        self._interval = interval
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                busy = await self._one_pass()
            except Exception as exc:  # the database is down: try again shortly
                log.warning(
                    "delivery pass failed",
                    extra={"job": self._name, "error_type": type(exc).__name__},
                )
                busy = 0
            if busy:
                continue  # there may be more due right now
            self._wake.clear()
            await wait_any((self._wake, stopping), self._interval)
