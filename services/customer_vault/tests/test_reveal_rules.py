"""Property: for random callers, grants and requests, a reveal succeeds exactly when the
rules say it should — checked against the running service, with real grants, real tokens
and real subcontractor organisations in identity (one DPA active, one lapsed).

The oracle below restates the rules of docs/security-model.md#reveal independently of the code.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from vault_testkit import TIMEOUT, Place, RunningVault, error_code, new_place, reveal, timestamp

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault_devstack.identity_driver import IdentityDriver, Tenant

pytestmark = pytest.mark.integration

KINDS = {
    "door_code": pb.SECRET_KIND_DOOR_CODE,
    "alarm_code": pb.SECRET_KIND_ALARM_CODE,
    "key_safe_code": pb.SECRET_KIND_KEY_SAFE_CODE,
}
STORED = {"door_code": "1357", "alarm_code": "2468"}  # no key-safe code at the site
SITE_AREA = "north"
ROLE_SETS = [
    ("technician",),
    ("dispatcher",),
    ("admin",),
    ("subcontractor_manager",),
    ("auditor",),
    ("dpo",),
    ("technician", "dispatcher"),
]


@dataclass(frozen=True)
class GrantSpec:
    #: A user grantee ("u1"/"u2"), or None for the organisation as a whole.
    user: str | None
    #: "own", "active" (subcontractor with a live DPA) or "lapsed".
    org: str
    fields: frozenset[str]
    window: str  # "now" or "later"
    revoked: bool


@dataclass(frozen=True)
class Scenario:
    same_tenant: bool
    roles: tuple[str, ...]
    areas: frozenset[str]
    user: str
    org: str
    grants: tuple[GrantSpec, ...]
    kind: str
    break_glass: bool
    reason_ok: bool


grant_specs = st.builds(
    GrantSpec,
    user=st.sampled_from([None, "u1", "u1", "u2"]),
    org=st.sampled_from(["own", "active", "lapsed"]),
    fields=st.frozensets(st.sampled_from([*KINDS, "contracts"]), min_size=1, max_size=4),
    window=st.sampled_from(["now", "now", "now", "later"]),
    revoked=st.sampled_from([False, False, True]),
)
scenarios = st.builds(
    Scenario,
    same_tenant=st.sampled_from([True, True, True, False]),
    # Weighted towards the people who reveal, so most examples reach the grant rules.
    roles=st.sampled_from(ROLE_SETS),
    areas=st.frozensets(st.sampled_from(["north", "south"])),
    user=st.sampled_from(["u1", "u1", "u2"]),
    org=st.sampled_from(["own", "active", "lapsed"]),
    grants=st.lists(grant_specs, max_size=3).map(tuple),
    kind=st.sampled_from(list(KINDS)),
    break_glass=st.booleans(),
    reason_ok=st.sampled_from([True, True, False]),
)


def expected(s: Scenario) -> str:
    """What the rules say: the revealed value, or the refusal (status:code)."""
    if s.break_glass and not s.reason_ok:
        return "INVALID_ARGUMENT"
    if not s.same_tenant:
        return "NOT_FOUND"
    if s.break_glass:
        if "dispatcher" not in s.roles:
            return "PERMISSION_DENIED:not_permitted"
        if SITE_AREA not in s.areas:
            return "PERMISSION_DENIED:not_in_your_areas"
    else:
        if "technician" not in s.roles:
            return "PERMISSION_DENIED:not_permitted"
        # A subcontractor without an active DPA gets no grant at all ("no DPA, no access").
        matching = [
            g
            for g in s.grants
            if not g.revoked
            and g.org != "lapsed"
            and g.window == "now"
            and s.kind in g.fields
            and (g.user == s.user or (g.user is None and g.org == s.org))
        ]
        if not matching:
            return "PERMISSION_DENIED:no_active_grant"
    if s.kind not in STORED:
        return "NOT_FOUND"
    return STORED[s.kind]


@dataclass
class World:
    tenant: Tenant
    organizations: dict[str, str]


@pytest.fixture
def vault_overrides() -> dict[str, object]:
    return {"reveal_rate_limit": 10_000}


@pytest.fixture
async def world(identity: IdentityDriver) -> World:
    tenant = await identity.new_tenant()
    today = datetime.now(UTC).date()
    active = await identity.new_subcontractor(
        tenant,
        dpa_signed_on=(today - timedelta(days=10)).isoformat(),
        dpa_expires_on=(today + timedelta(days=300)).isoformat(),
    )
    lapsed = await identity.new_subcontractor(
        tenant,
        dpa_signed_on=(today - timedelta(days=400)).isoformat(),
        dpa_expires_on=(today - timedelta(days=2)).isoformat(),
    )
    return World(tenant, {"own": "org-own", "active": active, "lapsed": lapsed})


async def play(vault: RunningVault, world: World, s: Scenario) -> str:
    tenant_id = world.tenant.id
    place = await new_place(vault, tenant_id, area_id=SITE_AREA, door_code=STORED["door_code"])
    await vault.stub.PutSecret(
        pb.PutSecretRequest(
            site_id=place.site.id, kind=pb.SECRET_KIND_ALARM_CODE, value=STORED["alarm_code"]
        ),
        metadata=place.dispatcher,
        timeout=TIMEOUT,
    )
    now = datetime.now(UTC)
    work_order = await vault.mint.work_order(tenant_id)
    for spec in s.grants:
        start = now - timedelta(hours=1) if spec.window == "now" else now + timedelta(hours=2)
        work_order_id = f"wo-{uuid.uuid4().hex[:8]}"
        if spec.org == "lapsed":
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await create_grant(vault, spec, place, world, work_order_id, start)
            assert error_code(refused.value) == "dpa_inactive"
            continue
        await create_grant(vault, spec, place, world, work_order_id, start)
        if spec.revoked:
            await vault.stub.RevokeGrants(
                pb.RevokeGrantsRequest(work_order_id=work_order_id, reason="completed"),
                metadata=work_order,
                timeout=TIMEOUT,
            )
    caller = await vault.mint.user(
        tenant_id if s.same_tenant else f"other-{uuid.uuid4().hex[:8]}",
        roles=s.roles,
        areas=s.areas,
        organization_id=world.organizations[s.org],
        # User ids are per place, so grants of earlier examples never match.
        user_id=f"{s.user}-{place.site.id[:8]}",
    )
    try:
        revealed = await reveal(
            vault,
            place.site.id,
            caller,
            kind=KINDS[s.kind],
            break_glass=s.break_glass,
            reason="Water leak, customer unreachable" if s.reason_ok else "x",
        )
    except grpc.aio.AioRpcError as exc:
        code = error_code(exc)
        if exc.code() == grpc.StatusCode.PERMISSION_DENIED:
            return f"{exc.code().name}:{code}"
        return exc.code().name
    return revealed.value


async def create_grant(
    vault: RunningVault,
    spec: GrantSpec,
    place: Place,
    world: World,
    work_order_id: str,
    start: datetime,
) -> None:
    await vault.stub.CreateGrant(
        pb.CreateGrantRequest(
            site_id=place.site.id,
            user_id=f"{spec.user}-{place.site.id[:8]}" if spec.user else "",
            organization_id=world.organizations[spec.org],
            subcontractor=spec.org != "own",
            fields=sorted(spec.fields),
            work_order_id=work_order_id,
            valid_from=timestamp(start),
            valid_until=timestamp(start + timedelta(hours=4)),
        ),
        metadata=await vault.mint.work_order(world.tenant.id),
        timeout=TIMEOUT,
    )


def grant_to(
    user: str | None, org: str, *, window: str = "now", revoked: bool = False
) -> GrantSpec:
    return GrantSpec(user, org, frozenset({"door_code"}), window, revoked)


def technician(*grants: GrantSpec, org: str = "own", user: str = "u1") -> Scenario:
    return Scenario(True, ("technician",), frozenset(), user, org, grants, "door_code", False, True)


def dispatcher(areas: frozenset[str], *, reason_ok: bool = True) -> Scenario:
    return Scenario(True, ("dispatcher",), areas, "u1", "own", (), "door_code", True, reason_ok)


PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# Each rule is also pinned by an explicit example, so every run exercises it.
@example(technician(grant_to("u1", "own")))
@example(technician(grant_to("u2", "own")))
@example(technician(grant_to(None, "active"), org="active"))
@example(technician(grant_to(None, "active"), org="lapsed"))
@example(technician(grant_to("u1", "lapsed"), org="lapsed"))
@example(technician(grant_to("u1", "lapsed"), grant_to(None, "own")))
@example(technician(grant_to("u1", "own", window="later")))
@example(technician(grant_to("u1", "own", revoked=True)))
@PROPERTY_SETTINGS
@given(scenario=scenarios.filter(lambda s: not s.break_glass))
async def test_a_grant_based_reveal_succeeds_exactly_when_the_rules_allow_it(
    customer_vault: RunningVault, world: World, scenario: Scenario
) -> None:
    assert await play(customer_vault, world, scenario) == expected(scenario)


@example(dispatcher(frozenset({"north"})))
@example(dispatcher(frozenset({"south"})))
@example(dispatcher(frozenset({"north"}), reason_ok=False))
@PROPERTY_SETTINGS
@given(scenario=scenarios.map(lambda s: replace(s, break_glass=True)))
async def test_a_break_glass_reveal_succeeds_exactly_when_the_rules_allow_it(
    customer_vault: RunningVault, world: World, scenario: Scenario
) -> None:
    assert await play(customer_vault, world, scenario) == expected(scenario)
