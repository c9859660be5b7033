"""Data-processing agreements about to lapse, on the operator's gauges.

A count only: which subcontractor is in the directory, not in the metrics.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.metrics import DPA_EXPIRING
from identity.models import Organization

#: How far ahead a lapsing DPA is counted (the alert's warning window).
DPA_WARNING_DAYS = 30

DPA_EXPIRING.set(0)


async def dpa_expiring_probe(session: AsyncSession) -> None:
    today = datetime.now(UTC).date()
    count = await session.scalar(
        select(func.count())
        .select_from(Organization)
        .where(
            Organization.dpa_expires_on >= today,
            Organization.dpa_expires_on <= today + timedelta(days=DPA_WARNING_DAYS),
        )
    )
    DPA_EXPIRING.set(count or 0)
