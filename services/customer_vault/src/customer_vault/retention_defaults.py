"""PLACEHOLDER retention periods for the record of processing activities (GDPR Art. 30).

The tenant's retention policy (and the purges that enforce it) is being built
separately; until it is connected, the Art. 30 record states these defaults and
says so (its ``retention.source`` is :data:`SOURCE`). When the policy exists,
:func:`retention_periods` is the one place to read it from instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: What the record names as the origin of its retention periods.
SOURCE: Final = "retention_defaults (placeholder until the tenant's retention policy is set)"


@dataclass(frozen=True, slots=True)
class RetentionPeriod:
    #: Which data (one of the record's data categories).
    data: str
    #: How long, in words a reader of the record understands.
    period: str
    #: What ends it.
    rule: str


RETENTION_DEFAULTS: Final = (
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
    RetentionPeriod(
        data="grants",
        period="while the work order's history is kept",
        rule="expire with the job; the record stays for the access history",
    ),
    RetentionPeriod(
        data="audit_trail",
        period="not shortened",
        rule="append-only and hash-chained; kept as long as the tenant exists",
    ),
)


def retention_periods() -> tuple[str, tuple[RetentionPeriod, ...]]:
    """The source of the periods and the periods themselves."""
    return SOURCE, RETENTION_DEFAULTS
