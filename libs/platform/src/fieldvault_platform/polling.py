"""A background job that polls: one pass every ``interval`` seconds, at once when
nudged (after a commit that queued work), and again straight away while a pass
finds work. A failed pass (the database down) is logged and retried next time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from fieldvault_platform.events._waiting import wait_any

log = logging.getLogger(__name__)


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
                    "background pass failed",
                    extra={"job": self._name, "error_type": type(exc).__name__},
                )
                busy = 0
            if busy:
                continue  # there may be more due right now
            self._wake.clear()
            await wait_any((self._wake, stopping), self._interval)
