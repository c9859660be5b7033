"""Identity ends access here: subcontractors without an active DPA reveal nothing, a lapsed
DPA and a deactivated user revoke grants through identity's events on NATS."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from vault_testkit import TIMEOUT, RunningVault, error_code, grant, new_place, reveal

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault.identity.v1 import identity_pb2
from fieldvault_devstack.identity_driver import IdentityDriver
from fieldvault_platform.auth import bearer_metadata

pytestmark = pytest.mark.integration

#: How long an identity event may take to revoke grants here (outbox → NATS → consumer).
REVOCATION_SECONDS = 5.0


def day(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


async def grants_of(vault: RunningVault, tenant_id: str, site_id: str) -> list[pb.Grant]:
    auditor = await vault.mint.user(tenant_id, roles=["auditor"])
    response = await vault.stub.ListGrants(
        pb.ListGrantsRequest(site_id=site_id), metadata=auditor, timeout=TIMEOUT
    )
    return list(response.grants)


async def until_revoked(vault: RunningVault, tenant_id: str, site_id: str) -> list[pb.Grant]:
    deadline = asyncio.get_running_loop().time() + REVOCATION_SECONDS
    while True:
        grants = await grants_of(vault, tenant_id, site_id)
        if all(not g.active for g in grants) or asyncio.get_running_loop().time() > deadline:
            return grants
        await asyncio.sleep(0.1)


async def test_a_subcontractor_reveals_only_while_its_dpa_is_active(
    customer_vault: RunningVault, identity: IdentityDriver
) -> None:
    tenant = await identity.new_tenant()
    active = await identity.new_subcontractor(
        tenant, dpa_signed_on=day(-30), dpa_expires_on=day(30)
    )
    lapsed = await identity.new_subcontractor(
        tenant, dpa_signed_on=day(-60), dpa_expires_on=day(-1)
    )
    place = await new_place(customer_vault, tenant.id)
    results = {}
    for organization_id, user_id in ((active, "sub-tech-1"), (lapsed, "sub-tech-2")):
        try:
            await grant(
                customer_vault,
                place,
                user_id=user_id,
                organization_id=organization_id,
                subcontractor=True,
            )
        except grpc.aio.AioRpcError as exc:
            # No DPA, no grant in the first place (test_no_dpa_no_access.py has the rest).
            assert (exc.code(), error_code(exc)) == (
                grpc.StatusCode.FAILED_PRECONDITION,
                "dpa_inactive",
            )
        technician = await customer_vault.mint.user(
            tenant.id, roles=["technician"], user_id=user_id, organization_id=organization_id
        )
        try:
            results[user_id] = (await reveal(customer_vault, place.site.id, technician)).value
        except grpc.aio.AioRpcError as exc:
            results[user_id] = f"{exc.code().name}:{error_code(exc)}"
    assert results == {
        "sub-tech-1": "DOOR-4711-CANARY",
        "sub-tech-2": "PERMISSION_DENIED:no_active_grant",
    }


async def test_a_lapsing_dpa_revokes_the_organisations_grants(
    customer_vault: RunningVault, identity: IdentityDriver
) -> None:
    tenant = await identity.new_tenant()
    organization_id = await identity.new_subcontractor(
        tenant, dpa_signed_on=day(-30), dpa_expires_on=day(30)
    )
    place = await new_place(customer_vault, tenant.id)
    await grant(customer_vault, place, organization_id=organization_id, subcontractor=True)
    await grant(
        customer_vault,
        place,
        user_id="sub-tech",
        organization_id=organization_id,
        subcontractor=True,
    )
    await identity.stub.UpdateOrganization(
        identity_pb2.UpdateOrganizationRequest(
            id=organization_id, update_mask=["dpa_expires_on"], dpa_expires_on=day(-1)
        ),
        metadata=bearer_metadata(tenant.admin_identity_token),
        timeout=TIMEOUT,
    )
    grants = await until_revoked(customer_vault, tenant.id, place.site.id)
    assert len(grants) == 2
    assert {(g.active, g.revoke_reason) for g in grants} == {(False, "dpa_inactive")}


async def test_deactivating_a_user_revokes_their_grants(
    customer_vault: RunningVault, identity: IdentityDriver
) -> None:
    tenant = await identity.new_tenant()
    person = await identity.new_person(tenant)
    place = await new_place(customer_vault, tenant.id)
    await grant(customer_vault, place, user_id=person.id)
    await grant(customer_vault, place, user_id="someone-else")
    await identity.stub.DeactivateUser(
        identity_pb2.DeactivateUserRequest(id=person.id),
        metadata=bearer_metadata(tenant.admin_identity_token),
        timeout=TIMEOUT,
    )
    deadline = asyncio.get_running_loop().time() + REVOCATION_SECONDS
    while True:
        grants = {g.user_id: g for g in await grants_of(customer_vault, tenant.id, place.site.id)}
        if not grants[person.id].active or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.1)
    assert (grants[person.id].active, grants[person.id].revoke_reason) == (
        False,
        "user_deactivated",
    )
    assert grants["someone-else"].active
