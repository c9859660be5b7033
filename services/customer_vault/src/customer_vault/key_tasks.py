"""Where the key register meets rotation tasks: a lost key means the lock must change.

This is the one call site; it opens the "change the lock" task in the same
transaction that marks the key lost, so there is never a lost key without one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession


async def open_change_the_lock_task(
    session: AsyncSession, *, tenant_id: str, site_id: str, since: datetime, dedupe_key: str
) -> None:
    """Open (once per ``dedupe_key``) a rotation task for the site's lock: key lost."""
    # Wired to customer_vault.rotation_tasks once that lands (branch h20-rotation).
    del session, tenant_id, site_id, since, dedupe_key
