"""The role → scope table: what each role can do, and what nobody can do by role alone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity.scopes import (
    MFA_ENROLL,
    PARTNER_SCOPES,
    ROLE_SCOPES,
    ROLES,
    SERVICE_ACCOUNT_SCOPES,
    USER_BASELINE,
    scopes_for_roles,
    service_scopes,
)

#: Scopes that let a caller read a secret value. Technicians hold the reveal
#: scope but still need a grant; no other role or client may hold either.
REVEAL_SCOPES = {"secrets:reveal", "secrets:break_glass"}
SCOPE_SYNTAX = re.compile(r"^[a-z_]+(:[a-z_]+)?$")


def test_every_role_of_the_api_has_scopes_and_nothing_else_does() -> None:
    assert set(ROLES) == {
        "admin",
        "dispatcher",
        "technician",
        "subcontractor_manager",
        "auditor",
        "dpo",
    }
    assert set(ROLE_SCOPES) == set(ROLES)


def test_scope_names_are_safe_to_put_in_a_space_separated_claim() -> None:
    everything = set(USER_BASELINE) | {MFA_ENROLL} | PARTNER_SCOPES
    for scopes in ROLE_SCOPES.values():
        everything |= scopes
    for by_audience in SERVICE_ACCOUNT_SCOPES.values():
        for scopes in by_audience.values():
            everything |= scopes
    assert all(SCOPE_SYNTAX.match(scope) for scope in everything), sorted(everything)


def test_only_the_technician_reveals_and_only_the_dispatcher_breaks_glass() -> None:
    holders = {
        scope: {role for role, scopes in ROLE_SCOPES.items() if scope in scopes}
        for scope in REVEAL_SCOPES
    }
    assert holders == {"secrets:reveal": {"technician"}, "secrets:break_glass": {"dispatcher"}}


def test_no_partner_scope_and_no_service_account_can_reveal_a_secret() -> None:
    assert not PARTNER_SCOPES & REVEAL_SCOPES
    for by_audience in SERVICE_ACCOUNT_SCOPES.values():
        for scopes in by_audience.values():
            assert not scopes & REVEAL_SCOPES


def test_partner_scopes_are_exactly_the_ones_the_api_lists() -> None:
    assert {
        "work_orders:read",
        "work_orders:write",
        "customers:read",
        "customers:write",
        "webhooks:manage",
    } == PARTNER_SCOPES


@pytest.mark.parametrize(
    ("role", "absent"),
    [
        # An admin manages people, not customer secrets or the audit trail's erasure tools.
        ("admin", {"secrets:write", "customers:erase", "customers:export", "audit:verify"}),
        # A technician never manages people or sees other customers.
        ("technician", {"users:manage", "customers:write", "work_orders:assign", "grants:read"}),
        ("subcontractor_manager", {"users:manage", "customers:read", "sites:read"}),
        # Auditors read the trail; they change nothing.
        ("auditor", {"customers:write", "users:manage", "work_orders:write", "secrets:write"}),
        ("dpo", {"users:manage", "work_orders:write", "secrets:write"}),
    ],
)
def test_a_role_does_not_carry_what_it_does_not_need(role: str, absent: set[str]) -> None:
    assert not ROLE_SCOPES[role] & absent


def test_gdpr_powers_belong_to_the_dpo_alone() -> None:
    for scope in ("customers:export", "customers:erase"):
        assert {role for role, scopes in ROLE_SCOPES.items() if scope in scopes} == {"dpo"}


@given(st.sets(st.sampled_from(ROLES)))
def test_a_users_scopes_are_the_baseline_plus_exactly_their_roles_scopes(roles: set[str]) -> None:
    scopes = scopes_for_roles(roles)
    assert scopes >= USER_BASELINE
    expected = set(USER_BASELINE).union(*(ROLE_SCOPES[role] for role in roles))
    assert scopes == expected
    assert MFA_ENROLL not in scopes


def test_an_unknown_role_is_an_error_not_an_empty_grant() -> None:
    with pytest.raises(KeyError):
        scopes_for_roles(["superuser"])


def test_work_order_may_only_manage_grants_and_locate_sites_in_customer_vault() -> None:
    assert service_scopes("work_order", "customer_vault") == {"grants:write", "sites:locate"}
    assert service_scopes("work_order", "notification") == frozenset()
    assert service_scopes("gateway", "customer_vault") == frozenset()


def test_only_notification_may_fetch_invitation_links() -> None:
    holders = {
        service
        for service, by_audience in SERVICE_ACCOUNT_SCOPES.items()
        for scopes in by_audience.values()
        if "invitations:deliver" in scopes
    }
    assert holders == {"notification"}


def test_the_readme_table_is_the_code() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| ((?:`[a-z_:]+`(?:, )?)+) \|$", readme, re.M))
    for role, scopes in ROLE_SCOPES.items():
        assert set(re.findall(r"`([a-z_:]+)`", rows[role])) == scopes, role


def test_the_record_of_processing_is_read_by_admins_and_dpos_only() -> None:
    assert {role for role, scopes in ROLE_SCOPES.items() if "processing_record:read" in scopes} == {
        "admin",
        "dpo",
    }
