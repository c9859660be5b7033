"""Waiting on several asyncio events at once (stop, or a nudge, or a timeout)."""

from __future__ import annotations

import asyncio
import contextlib


async def wait_any(events: tuple[asyncio.Event, ...], seconds: float) -> None:
    """Return when any of ``events`` is set or ``seconds`` seconds have passed."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*waiters, return_exceptions=True)
