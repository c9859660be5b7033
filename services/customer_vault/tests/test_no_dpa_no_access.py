""" "No DPA, no access" for every read and write a grant allows, and grants only for people
identity still counts: active, and in the organisation the grant names.

Identity's lapse event revokes an organisation's grants, but not at the moment the DPA
lapses: its watcher announces a calendar expiry on its next run, and the event then
travels through the outbox and NATS. In between, identity already says "inactive" while
the grant is still open here; that window is reproduced by re-opening the revoked grant.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from sqlalchemy import text
from vault_testkit import (
    TIMEOUT,
    Metadata,
    Place,
    RunningVault,
    error_code,
    grant,
    new_place,
    reveal,
)

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault.identity.v1 import identity_pb2
from fieldvault_devstack.identity_driver import IdentityDriver, Tenant
from fieldvault_platform.auth import bearer_metadata

pytestmark = pytest.mark.integration

#: How long an identity event may take to reach customer-vault (outbox → NATS → consumer).
EVENT_SECONDS = 5.0


def day(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


async def outcome(call: object) -> str:
    try:
        await call  # type: ignore[misc]
    except grpc.aio.AioRpcError as exc:
        code = error_code(exc)
        return f"{exc.code().name}:{code}" if code else exc.code().name
    return "OK"


async def what_the_technician_gets(
    vault: RunningVault, place: Place, who: Metadata
) -> dict[str, str]:
    site_id = place.site.id
    return {
        "site": await outcome(
            vault.stub.GetSite(pb.GetSiteRequest(id=site_id), metadata=who, timeout=TIMEOUT)
        ),
        "sites": "listed"
        if any(
            s.id == site_id
            for s in (
                await vault.stub.ListSites(pb.ListSitesRequest(), metadata=who, timeout=TIMEOUT)
            ).sites
        )
        else "hidden",
        "secrets": await outcome(
            vault.stub.ListSecrets(
                pb.ListSecretsRequest(site_id=site_id), metadata=who, timeout=TIMEOUT
            )
        ),
        "put": await outcome(
            vault.stub.PutSecret(
                pb.PutSecretRequest(site_id=site_id, kind=pb.SECRET_KIND_ALARM_CODE, value="9911"),
                metadata=who,
                timeout=TIMEOUT,
            )
        ),
        "reveal": await outcome(reveal(vault, site_id, who)),
    }


async def open_grants(vault: RunningVault, tenant_id: str, site_id: str) -> list[pb.Grant]:
    auditor = await vault.mint.user(tenant_id, roles=["auditor"])
    response = await vault.stub.ListGrants(
        pb.ListGrantsRequest(site_id=site_id, active_only=True), metadata=auditor, timeout=TIMEOUT
    )
    return list(response.grants)


async def until_no_open_grants(vault: RunningVault, tenant_id: str, site_id: str) -> None:
    deadline = asyncio.get_running_loop().time() + EVENT_SECONDS
    while await open_grants(vault, tenant_id, site_id):
        assert asyncio.get_running_loop().time() < deadline, "identity's event never arrived"
        await asyncio.sleep(0.1)


async def test_a_subcontractor_whose_dpa_lapses_during_a_job_loses_the_site_its_codes_and_put(
    customer_vault: RunningVault, identity: IdentityDriver
) -> None:
    tenant = await identity.new_tenant()
    organization_id = await identity.new_subcontractor(
        tenant, dpa_signed_on=day(-30), dpa_expires_on=day(30)
    )
    place = await new_place(customer_vault, tenant.id)
    await grant(
        customer_vault,
        place,
        user_id="sub-tech",
        organization_id=organization_id,
        subcontractor=True,
        fields=["door_code", "alarm_code"],
    )
    technician = await customer_vault.mint.user(
        tenant.id, roles=["technician"], user_id="sub-tech", organization_id=organization_id
    )
    before = await what_the_technician_gets(customer_vault, place, technician)
    assert before == {"site": "OK", "sites": "listed", "secrets": "OK", "put": "OK", "reveal": "OK"}

    await identity.stub.UpdateOrganization(
        identity_pb2.UpdateOrganizationRequest(
            id=organization_id, update_mask=["dpa_expires_on"], dpa_expires_on=day(-1)
        ),
        metadata=bearer_metadata(tenant.admin_identity_token),
        timeout=TIMEOUT,
    )
    await until_no_open_grants(customer_vault, tenant.id, place.site.id)
    # The window before the event: the grant still open here, the DPA lapsed in identity.
    async with customer_vault.database.engine.begin() as connection:
        await connection.execute(
            text("UPDATE grants SET revoked_at = NULL, revoke_reason = NULL WHERE site_id = :s"),
            {"s": place.site.id},
        )

    after = await what_the_technician_gets(customer_vault, place, technician)
    assert after == {
        "site": "NOT_FOUND:not_found",
        "sites": "hidden",
        "secrets": "NOT_FOUND:not_found",
        "put": "NOT_FOUND:not_found",
        "reveal": "PERMISSION_DENIED:dpa_inactive",
    }
    # Own staff with their own grant at the same site are unaffected.
    await grant(customer_vault, place, user_id="own-tech")
    own = await customer_vault.mint.user(tenant.id, roles=["technician"], user_id="own-tech")
    assert (await what_the_technician_gets(customer_vault, place, own))["site"] == "OK"


async def test_no_grant_is_created_for_a_subcontractor_without_an_active_dpa(
    customer_vault: RunningVault, identity: IdentityDriver
) -> None:
    tenant = await identity.new_tenant()
    lapsed = await identity.new_subcontractor(
        tenant, dpa_signed_on=day(-60), dpa_expires_on=day(-1)
    )
    never_signed = await identity.new_subcontractor(tenant)
    place = await new_place(customer_vault, tenant.id)
    for organization_id in (lapsed, never_signed):
        assert (
            await outcome(
                grant(
                    customer_vault,
                    place,
                    user_id="sub-tech",
                    organization_id=organization_id,
                    subcontractor=True,
                )
            )
            == "FAILED_PRECONDITION:dpa_inactive"
        )
    assert await open_grants(customer_vault, tenant.id, place.site.id) == []


async def own_organization(identity: IdentityDriver, tenant: Tenant, user_id: str) -> str:
    user = await identity.stub.GetUser(
        identity_pb2.GetUserRequest(id=user_id),
        metadata=bearer_metadata(tenant.admin_identity_token),
        timeout=TIMEOUT,
    )
    organization_id: str = user.user.organization_id
    return organization_id


async def test_no_grant_is_created_for_a_deactivated_user(
    customer_vault: RunningVault, identity: IdentityDriver
) -> None:
    tenant = await identity.new_tenant()
    person = await identity.new_person(tenant)
    organization_id = await own_organization(identity, tenant, person.id)
    place = await new_place(customer_vault, tenant.id)
    await grant(customer_vault, place, user_id=person.id, organization_id=organization_id)
    await identity.stub.DeactivateUser(
        identity_pb2.DeactivateUserRequest(id=person.id),
        metadata=bearer_metadata(tenant.admin_identity_token),
        timeout=TIMEOUT,
    )
    await until_no_open_grants(customer_vault, tenant.id, place.site.id)
    # work-order, acting on an older view, assigns them another job.
    assert (
        await outcome(
            grant(customer_vault, place, user_id=person.id, organization_id=organization_id)
        )
        == "FAILED_PRECONDITION:user_inactive"
    )
    assert await open_grants(customer_vault, tenant.id, place.site.id) == []


async def test_a_user_moved_to_another_organisation_loses_their_grants(
    customer_vault: RunningVault, identity: IdentityDriver
) -> None:
    tenant = await identity.new_tenant()
    person = await identity.new_person(tenant)
    old_organization = await own_organization(identity, tenant, person.id)
    new_organization = await identity.new_subcontractor(
        tenant, dpa_signed_on=day(-30), dpa_expires_on=day(30)
    )
    place = await new_place(customer_vault, tenant.id)
    await grant(customer_vault, place, user_id=person.id, organization_id=old_organization)
    await grant(customer_vault, place, user_id="colleague", organization_id=old_organization)
    await identity.stub.UpdateUser(
        identity_pb2.UpdateUserRequest(
            id=person.id, update_mask=["organization_id"], organization_id=new_organization
        ),
        metadata=bearer_metadata(tenant.admin_identity_token),
        timeout=TIMEOUT,
    )
    deadline = asyncio.get_running_loop().time() + EVENT_SECONDS
    while person.id in {
        g.user_id for g in await open_grants(customer_vault, tenant.id, place.site.id)
    }:
        assert asyncio.get_running_loop().time() < deadline, "the move never reached customer-vault"
        await asyncio.sleep(0.1)
    auditor = await customer_vault.mint.user(tenant.id, roles=["auditor"])
    grants = (
        await customer_vault.stub.ListGrants(
            pb.ListGrantsRequest(site_id=place.site.id), metadata=auditor, timeout=TIMEOUT
        )
    ).grants
    assert sorted((g.user_id == person.id, g.active, g.revoke_reason) for g in grants) == [
        (False, True, ""),
        (True, False, "organization_changed"),
    ]
    # A grant for the organisation they left is refused; one for their new one is fine.
    assert (
        await outcome(
            grant(customer_vault, place, user_id=person.id, organization_id=old_organization)
        )
        == "FAILED_PRECONDITION:user_not_in_organization"
    )
    assert (
        await outcome(
            grant(
                customer_vault,
                place,
                user_id=person.id,
                organization_id=new_organization,
                subcontractor=True,
            )
        )
        == "OK"
    )
