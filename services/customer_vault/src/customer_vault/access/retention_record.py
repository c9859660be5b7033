"""The retention periods the record of processing activities (GDPR Art. 30) states.

The purged categories come from the tenant's retention policy as this service
holds it (:mod:`fieldvault_platform.retention`: identity's policy, copied here by
the ``tenant_retention_policy_changed`` consumer, or the defaults for a tenant
that never set one), so the record says what the daily purges actually enforce.
The data kept for the life of the customer relationship has no period to set:
it ends with the customer's erasure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform import retention
from fieldvault_platform.retention import RetentionPolicyCopy


@dataclass(frozen=True, slots=True)
class RetentionPeriod:
    #: Which data (one of the record's data categories, or a purged category).
    data: str
    #: How long, in words a reader of the record understands.
    period: str
    #: What ends it.
    rule: str


#: Where the record says its purged periods come from.
TENANT_POLICY: Final = "tenant_retention_policy"
DEFAULTS: Final = "retention_defaults"

_PURGE_RULES: Final = {
    retention.WORK_ORDER_TEXT: "after completion or cancellation, the job's free text is "
    "cleared (the job itself stays)",
    retention.INBOX: "inbox notifications older than this are deleted",
    retention.DELIVERY_LOGS: "finished e-mail, SMS and webhook deliveries are deleted",
    retention.ENDED_GRANTS: "grants that expired or were revoked longer ago are deleted",
    retention.AUDIT_RECORDS: "the oldest records are removed behind a checkpoint MAC'd in "
    "Vault, so the rest of the chain still verifies",
}

_RELATIONSHIP: Final = (
    RetentionPeriod(
        data="customer_contact_data",
        period="while the customer relationship lasts",
        rule="erased (crypto-shredded) by the DPO on request or when the relationship ends",
    ),
    RetentionPeriod(
        data="site_access_codes",
        period="while the site is served",
        rule="older versions kept with the current one; erased with the customer",
    ),
    RetentionPeriod(
        data="contracts",
        period="while the customer relationship lasts",
        rule="erased with the customer",
    ),
)


async def retention_periods(
    session: AsyncSession, tenant_id: str
) -> tuple[str, tuple[RetentionPeriod, ...]]:
    """Where the purged periods come from, and every period the record states."""
    copy = await session.get(RetentionPolicyCopy, tenant_id)
    policy = await retention.policy_of(session, tenant_id)
    purged = tuple(
        RetentionPeriod(
            data=category, period=f"{policy.days[category]} days", rule=_PURGE_RULES[category]
        )
        for category in retention.CATEGORIES
    )
    return (TENANT_POLICY if copy is not None else DEFAULTS), _RELATIONSHIP + purged
