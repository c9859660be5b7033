"""What each kind of caller may do: roles → scopes, partner scopes, service accounts.

A token carries only the scopes its holder's roles need (the union over the
user's roles), and every service checks scopes, not roles, so this table is
the one place that decides what a role can do. The README of this service
renders it for people; ``tests/test_scopes.py`` pins it.

Some scopes are further limited by data the token also carries (areas,
organisation) or by a grant: ``work_orders:read`` for a technician still only
shows their own jobs, ``secrets:reveal`` still needs an active grant. No
role's scopes, and no partner scope, reveal a secret by themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

ROLES: Final = ("admin", "dispatcher", "technician", "subcontractor_manager", "auditor", "dpo")

#: Roles whose users must have a second factor unless the tenant says otherwise.
DEFAULT_MFA_REQUIRED_ROLES: Final = ("admin", "auditor", "dpo")

#: Every signed-in user, whatever their roles: their own profile, password and
#: second factor, the tenant's area names, their own notifications.
USER_BASELINE: Final = frozenset({"profile", "areas:read", "notifications:read"})

ROLE_SCOPES: Final[Mapping[str, frozenset[str]]] = {
    # People, organisations, areas, partner clients, tenant policy; the
    # identity audit log. Deliberately nothing about customers or secrets.
    "admin": frozenset(
        {
            "users:read",
            "users:manage",
            "organizations:read",
            "organizations:manage",
            "areas:manage",
            "api_clients:manage",
            "tenant:manage",
            "identity_audit:read",
            "webhooks:manage",
            "customers:read",
            "customers:write",
            "sites:read",
            "sites:write",
            "contracts:read",
            "contracts:write",
            # Two-channel secure shares: contracts, DPA documents, one-off credentials.
            "shares:write",
            "shares:credential",
            # The tenant's record of processing activities (GDPR Art. 30).
            "processing_record:read",
            "exposure:read",
            "rotation_tasks:read",
            "rotation_tasks:close",
            "instructions:report",
        }
    ),
    # Customers, sites and work orders in their own areas; may write secrets
    # and reveal them only by break-glass (reason required, audited, alerted).
    "dispatcher": frozenset(
        {
            "users:read",
            "organizations:read",
            "customers:read",
            "customers:write",
            "sites:read",
            "sites:write",
            "secrets:write",
            "secrets:break_glass",
            "contracts:read",
            "contracts:write",
            "work_orders:read",
            "work_orders:write",
            "work_orders:assign",
            "grants:read",
            "rotation_tasks:read",
            "rotation_tasks:close",
        }
    ),
    # Their own jobs; writes codes found on site; reveals through grants only.
    "technician": frozenset(
        {
            "work_orders:read",
            "work_orders:progress",
            "sites:read",
            "secrets:write",
            "secrets:reveal",
            "contracts:read",
        }
    ),
    # Assigns their organisation's jobs to their organisation's people.
    "subcontractor_manager": frozenset({"users:read", "work_orders:read", "work_orders:assign"}),
    "auditor": frozenset(
        {
            "audit:read",
            "audit:verify",
            "grants:read",
            "identity_audit:read",
            "exposure:read",
            "rotation_tasks:read",
            "instructions:report",
        }
    ),
    # GDPR: export, erasure, customers' access reports, the record of processing;
    # shares contracts and DPA documents with a customer's board or a
    # subcontractor's contact by two-channel secure share.
    "dpo": frozenset(
        {
            "audit:read",
            "customers:read",
            "customers:export",
            "customers:erase",
            "processing_record:read",
            "shares:write",
            "instructions:report",
        }
    ),
}

#: Reading who has and has not acknowledged the data-handling instructions.
INSTRUCTIONS_REPORT: Final = "instructions:report"

#: The only scope of the token a user gets when policy demands a second factor
#: they have not enrolled yet.
MFA_ENROLL: Final = "mfa:enroll"

#: What an admin may grant a partner system (docs/security-model.md#roles-and-scopes).
#: None of them reveals a secret.
PARTNER_SCOPES: Final = frozenset(
    {
        "work_orders:read",
        "work_orders:write",
        "customers:read",
        "customers:write",
        "webhooks:manage",
    }
)

#: Service accounts: for each calling service, the audiences it may ask a
#: token for and the scopes it may have there. Nothing else is ever issued.
SERVICE_ACCOUNT_SCOPES: Final[Mapping[str, Mapping[str, frozenset[str]]]] = {
    # Assignment creates grants, completion/cancellation revokes them; it
    # locates a site (customer and area, nothing personal) to file a work order,
    # and reads people and organisations to check an assignee and their DPA.
    "work_order": {
        "customer_vault": frozenset({"grants:write", "sites:locate"}),
        "identity": frozenset({"directory:read"}),
    },
    # Fetches invitation links to deliver and addresses to deliver to; a
    # share's address and secret, one channel at a time.
    "notification": {
        "identity": frozenset({"invitations:deliver", "directory:read"}),
        "customer_vault": frozenset({"shares:deliver"}),
    },
    # Provisions a new tenant's key-encryption key.
    "identity": {
        "customer_vault": frozenset({"tenant_keys:ensure"}),
    },
    # Checks a subcontractor's DPA before a reveal.
    "customer_vault": {
        "identity": frozenset({"directory:read"}),
    },
}


def scopes_for_roles(roles: Iterable[str]) -> frozenset[str]:
    """The scopes a user with these roles gets: the baseline plus each role's."""
    scopes = set(USER_BASELINE)
    for role in roles:
        scopes |= ROLE_SCOPES[role]
    return frozenset(scopes)


def service_scopes(service: str, audience: str) -> frozenset[str]:
    """What ``service`` may hold at ``audience`` (empty when nothing)."""
    return SERVICE_ACCOUNT_SCOPES.get(service, {}).get(audience, frozenset())
