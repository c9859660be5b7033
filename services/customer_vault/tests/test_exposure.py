"""Exposure reports from identity's events (a deactivated user, a lapsed DPA), the rotation
tasks they open, who may see and close them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from vault_testkit import (
    TIMEOUT,
    Place,
    RunningVault,
    error_code,
    grant,
    new_place,
    reveal,
)

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault.identity.v1 import identity_pb2
from fieldvault_devstack.identity_driver import IdentityDriver
from fieldvault_platform.auth import bearer_metadata

pytestmark = pytest.mark.integration

#: How long an identity event may take to produce a report here (outbox → NATS → consumer).
REPORT_SECONDS = 10.0


def day(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


async def exposure_of(
    vault: RunningVault, tenant_id: str, kind: str, subject_id: str
) -> pb.Exposure | None:
    """The report once the consumer made it (None if none came in time)."""
    auditor = await vault.mint.user(tenant_id, roles=["auditor"])
    deadline = asyncio.get_running_loop().time() + REPORT_SECONDS
    while True:
        try:
            response = await vault.stub.GetExposure(
                pb.GetExposureRequest(subject_kind=kind, subject_id=subject_id),
                metadata=auditor,
                timeout=TIMEOUT,
            )
            return response.exposure
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.NOT_FOUND, exc
        if asyncio.get_running_loop().time() > deadline:
            return None
        await asyncio.sleep(0.2)


async def tasks_for(
    vault: RunningVault, caller: tuple[tuple[str, str], ...], **filters: str
) -> list[pb.RotationTask]:
    response = await vault.stub.ListRotationTasks(
        pb.ListRotationTasksRequest(page_size=200, **filters), metadata=caller, timeout=TIMEOUT
    )
    return list(response.tasks)


def items(report: pb.Exposure, section: str) -> set[tuple[str, str]]:
    return {
        (item.site_id, item.subject)
        for named in report.sections
        if named.name == section
        for item in named.items
    }


async def test_a_leavers_reveals_become_tasks_for_the_dispatchers_of_each_sites_area(
    customer_vault: RunningVault, identity: IdentityDriver
) -> None:
    tenant = await identity.new_tenant()
    person = await identity.new_person(tenant)
    north = await new_place(customer_vault, tenant.id, area_id="area-north")
    south = await new_place(customer_vault, tenant.id, area_id="area-south")
    untouched = await new_place(customer_vault, tenant.id, area_id="area-north")
    rotated = await new_place(customer_vault, tenant.id, area_id="area-south")
    technician = await customer_vault.mint.user(tenant.id, roles=["technician"], user_id=person.id)
    for place in (north, south, rotated):
        await grant(customer_vault, place, user_id=person.id)
        await reveal(customer_vault, place.site.id, technician)
    # Someone else's reveal is not the leaver's exposure.
    colleague = await customer_vault.mint.user(tenant.id, roles=["technician"], user_id="colleague")
    await grant(customer_vault, untouched, user_id="colleague")
    await reveal(customer_vault, untouched.site.id, colleague)
    # This code was changed after the leaver saw it: listed, but needs no task.
    await customer_vault.stub.PutSecret(
        pb.PutSecretRequest(site_id=rotated.site.id, kind=pb.SECRET_KIND_DOOR_CODE, value="0000"),
        metadata=rotated.dispatcher,
        timeout=TIMEOUT,
    )

    await identity.stub.DeactivateUser(
        identity_pb2.DeactivateUserRequest(id=person.id),
        metadata=bearer_metadata(tenant.admin_identity_token),
        timeout=TIMEOUT,
    )
    report = await exposure_of(customer_vault, tenant.id, "user", person.id)
    assert report is not None
    assert report.trigger == "user_deactivated"
    assert items(report, "revealed") == {
        (north.site.id, "door_code"),
        (south.site.id, "door_code"),
        (rotated.site.id, "door_code"),
    }
    assert items(report, "break_glass") == set()
    rotated_item = next(i for s in report.sections for i in s.items if i.site_id == rotated.site.id)
    assert (rotated_item.rotated_since, rotated_item.task_id) == (True, "")

    admin = await customer_vault.mint.user(tenant.id, roles=["admin"])
    every = await tasks_for(customer_vault, admin)
    assert {(t.site_id, t.subject, t.reason, t.status, t.exposed_user_id) for t in every} == {
        (north.site.id, "door_code", "revealed_by_leaver", "open", person.id),
        (south.site.id, "door_code", "revealed_by_leaver", "open", person.id),
    }
    # A dispatcher sees their own area's tasks only; another area is refused.
    north_dispatcher = north.dispatcher
    assert [t.site_id for t in await tasks_for(customer_vault, north_dispatcher)] == [north.site.id]
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await tasks_for(customer_vault, north_dispatcher, area_id="area-south")
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    south_task = next(t for t in every if t.site_id == south.site.id)
    with pytest.raises(grpc.aio.AioRpcError) as hidden:
        await customer_vault.stub.CloseRotationTask(
            pb.CloseRotationTaskRequest(id=south_task.id, reason="code is per visit"),
            metadata=north_dispatcher,
            timeout=TIMEOUT,
        )
    assert hidden.value.code() == grpc.StatusCode.NOT_FOUND

    # The south dispatcher closes it by hand; a second close is refused.
    closed = await customer_vault.stub.CloseRotationTask(
        pb.CloseRotationTaskRequest(id=south_task.id, reason="code is per visit"),
        metadata=south.dispatcher,
        timeout=TIMEOUT,
    )
    assert (closed.task.status, closed.task.closed_how, closed.task.close_reason) == (
        "closed",
        "by_hand",
        "code is per visit",
    )
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await customer_vault.stub.CloseRotationTask(
            pb.CloseRotationTaskRequest(id=south_task.id, reason="code is per visit"),
            metadata=south.dispatcher,
            timeout=TIMEOUT,
        )
    assert (again.value.code(), error_code(again.value)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "task_closed",
    )
    # A new door code closes the north task by itself.
    await customer_vault.stub.PutSecret(
        pb.PutSecretRequest(site_id=north.site.id, kind=pb.SECRET_KIND_DOOR_CODE, value="5151"),
        metadata=north.dispatcher,
        timeout=TIMEOUT,
    )
    assert {(t.site_id, t.closed_how) for t in await tasks_for(customer_vault, admin)} == {
        (north.site.id, "new_value"),
        (south.site.id, "by_hand"),
    }
    assert await tasks_for(customer_vault, admin, status="open") == []


async def test_a_lapsed_dpa_makes_one_report_for_all_the_organisations_reveals(
    customer_vault: RunningVault, identity: IdentityDriver
) -> None:
    tenant = await identity.new_tenant()
    organization_id = await identity.new_subcontractor(
        tenant, dpa_signed_on=day(-30), dpa_expires_on=day(30)
    )
    first = await new_place(customer_vault, tenant.id, area_id="area-north")
    second = await new_place(customer_vault, tenant.id, area_id="area-north")
    for place, user_id in ((first, "sub-tech-1"), (second, "sub-tech-2"), (first, "sub-tech-2")):
        await grant(
            customer_vault,
            place,
            user_id=user_id,
            organization_id=organization_id,
            subcontractor=True,
        )
        technician = await customer_vault.mint.user(
            tenant.id, roles=["technician"], user_id=user_id, organization_id=organization_id
        )
        await reveal(customer_vault, place.site.id, technician)
    await identity.stub.UpdateOrganization(
        identity_pb2.UpdateOrganizationRequest(
            id=organization_id, update_mask=["dpa_expires_on"], dpa_expires_on=day(-1)
        ),
        metadata=bearer_metadata(tenant.admin_identity_token),
        timeout=TIMEOUT,
    )
    report = await exposure_of(customer_vault, tenant.id, "organization", organization_id)
    assert report is not None
    assert report.trigger == "dpa_lapsed"
    revealed = {i.site_id: set(i.user_ids) for s in report.sections for i in s.items}
    assert revealed == {
        first.site.id: {"sub-tech-1", "sub-tech-2"},
        second.site.id: {"sub-tech-2"},
    }
    admin = await customer_vault.mint.user(tenant.id, roles=["admin"])
    tasks = await tasks_for(customer_vault, admin)
    assert sorted((t.site_id, t.reason, t.exposed_organization_id) for t in tasks) == sorted(
        [
            (first.site.id, "revealed_by_organization", organization_id),
            (second.site.id, "revealed_by_organization", organization_id),
        ]
    )


async def test_only_admins_and_auditors_read_exposure_and_no_one_outside_the_office_lists_tasks(
    customer_vault: RunningVault, identity: IdentityDriver
) -> None:
    tenant = await identity.new_tenant()
    place: Place = await new_place(customer_vault, tenant.id)
    request = pb.GetExposureRequest(subject_kind="user", subject_id="nobody")
    for roles in (["dispatcher"], ["technician"], ["dpo"]):
        caller = await customer_vault.mint.user(tenant.id, roles=roles, areas=[place.area_id])
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await customer_vault.stub.GetExposure(request, metadata=caller, timeout=TIMEOUT)
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED, roles
    auditor = await customer_vault.mint.user(tenant.id, roles=["auditor"])
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await customer_vault.stub.GetExposure(request, metadata=auditor, timeout=TIMEOUT)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await customer_vault.stub.GetExposure(
            pb.GetExposureRequest(subject_kind="planet", subject_id="x"),
            metadata=auditor,
            timeout=TIMEOUT,
        )
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    technician = await customer_vault.mint.user(tenant.id, roles=["technician"])
    partner = await customer_vault.mint.client(tenant.id, ["customers:read"])
    for caller in (technician, partner):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await tasks_for(customer_vault, caller)
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
