"""Where the key register meets rotation tasks: a lost key means the lock must change.

This is the one call site; it opens the "change the lock" task in the same
transaction that marks the key lost, so there is never a lost key without one
(and ``rotation_task_created`` tells the dispatchers of the site's area).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from customer_vault import rotation_tasks

#: Why a lock must change: the key was marked lost.
KEY_LOST = "key_lost"
#: Why a lock must change: a leaver (or a lapsed organisation) still holds the key.
KEY_NOT_RETURNED = "key_not_returned"


async def open_change_the_lock_task(
    session: AsyncSession,
    *,
    tenant_id: str,
    site_id: str,
    since: datetime,
    dedupe_key: str,
    holder_user_id: str | None = None,
) -> str | None:
    """Open (once per ``dedupe_key``) a rotation task for the site's lock; its id, or None
    when that key's loss opened one already."""
    task = await rotation_tasks.open_rotation_task(
        session,
        tenant_id=tenant_id,
        site_id=site_id,
        subject=rotation_tasks.LOCK,
        reason=KEY_LOST,
        since=since,
        dedupe_key=dedupe_key,
        exposed=rotation_tasks.Exposed(user_id=holder_user_id),
        now=since,
    )
    return task.id if task is not None else None
