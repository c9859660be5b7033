"""What work-order does on other services' events, against real identity, customer-vault and
NATS: jobs go back to the office when their assignee may no longer work, follow a moved
site, and lose their free text when the customer is erased."""

from __future__ import annotations

import grpc
import nats
import pytest
from nats.js.api import DeliverPolicy
from work_order_fixtures import Stack
from work_order_testkit import (
    DOOR_CODE,
    TIMEOUT,
    Company,
    Member,
    company,
    error_code,
    eventually,
    member,
    new_work_order,
    reveal,
)

from fieldvault.customer_vault.v1 import customer_vault_pb2 as cv
from fieldvault.identity.v1 import identity_pb2
from fieldvault.work_order.v1 import work_order_events_pb2 as events_pb
from fieldvault.work_order.v1 import work_order_pb2 as pb
from fieldvault_platform.auth import bearer_metadata

pytestmark = pytest.mark.integration


async def assign(stack: Stack, c: Company, order: pb.WorkOrder, **assignee: str) -> pb.WorkOrder:
    assigned = await stack.work_order.AssignWorkOrder(
        pb.AssignWorkOrderRequest(id=order.id, **assignee),
        metadata=c.dispatcher.work_order,
        timeout=TIMEOUT,
    )
    result: pb.WorkOrder = assigned.work_order
    return result


async def current(
    stack: Stack, c: Company, order_id: str, who: Member | None = None
) -> pb.WorkOrder:
    got = await stack.work_order.GetWorkOrder(
        pb.GetWorkOrderRequest(id=order_id),
        metadata=(who or c.dispatcher).work_order,
        timeout=TIMEOUT,
    )
    result: pb.WorkOrder = got.work_order
    return result


async def status_of(stack: Stack, c: Company, order_id: str) -> int:
    return (await current(stack, c, order_id)).status


async def last_history(
    stack: Stack, c: Company, order_id: str, who: Member | None = None
) -> pb.HistoryEntry:
    history = await stack.work_order.ListWorkOrderHistory(
        pb.ListWorkOrderHistoryRequest(id=order_id),
        metadata=(who or c.dispatcher).work_order,
        timeout=TIMEOUT,
    )
    entry: pb.HistoryEntry = history.entries[-1]
    return entry


async def returned_events(
    stack: Stack, tenant_id: str, count: int
) -> list[events_pb.WorkOrderReturned]:
    client = await nats.connect(stack.work_order_settings.nats_url)
    found: list[events_pb.WorkOrderReturned] = []
    try:
        subscription = await client.jetstream().subscribe(
            f"fieldvault.{tenant_id}.work_order.v1.returned",
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.ALL,
        )
        try:
            while len(found) < count:
                message = await subscription.next_msg(timeout=5)
                found.append(events_pb.WorkOrderReturned.FromString(message.data))
        finally:
            await subscription.unsubscribe()
    finally:
        await client.close()
    return found


async def active_grants(stack: Stack, c: Company, order_id: str) -> int:
    grants = await stack.customer_vault.ListGrants(
        cv.ListGrantsRequest(work_order_id=order_id, active_only=True),
        metadata=c.dispatcher.customer_vault,
        timeout=TIMEOUT,
    )
    return len(grants.grants)


async def test_a_deactivated_technicians_open_job_goes_back_to_the_office(stack: Stack) -> None:
    c = await company(stack)
    order = await new_work_order(stack, c)
    await assign(stack, c, order, assignee_user_id=c.technician.id)
    await eventually(lambda: reveal(stack, c.site_id, c.technician), DOOR_CODE)

    await stack.identity.stub.DeactivateUser(
        identity_pb2.DeactivateUserRequest(id=c.technician.id),
        metadata=bearer_metadata(c.tenant.admin_identity_token),
        timeout=TIMEOUT,
    )
    status, _ = await eventually(
        lambda: status_of(stack, c, order.id), pb.WORK_ORDER_STATUS_SCHEDULED
    )
    assert status == pb.WORK_ORDER_STATUS_SCHEDULED
    back = await current(stack, c, order.id)
    assert (back.assignee_user_id, back.assignee_organization_id) == ("", "")
    assert back.scheduled_start == order.scheduled_start  # it keeps its date
    entry = await last_history(stack, c, order.id)
    assert (entry.action, entry.reason, entry.actor_id) == (
        "returned",
        "user_deactivated",
        "service:work_order",
    )
    assert entry.from_status == pb.WORK_ORDER_STATUS_ASSIGNED
    left, _ = await eventually(lambda: active_grants(stack, c, order.id), 0)
    assert left == 0
    (event,) = await returned_events(stack, c.tenant.id, 1)
    assert (event.work_order_id, event.area_id, event.status, event.reason) == (
        order.id,
        c.area,
        "scheduled",
        "user_deactivated",
    )
    assert event.previous_assignee_user_id == c.technician.id
    # The office assigns it again, to someone who may work.
    second = await member(stack.identity, c.tenant, roles=["technician"], area_ids=[c.area])
    again = await assign(stack, c, back, assignee_user_id=second.id)
    assert again.status == pb.WORK_ORDER_STATUS_ASSIGNED


async def test_a_subcontractor_whose_dpa_lapses_gives_every_open_job_back(stack: Stack) -> None:
    c = await company(stack)
    sub = await stack.identity.new_subcontractor(
        c.tenant, dpa_signed_on="2020-01-01", dpa_expires_on="2099-12-31"
    )
    their_technician = await member(
        stack.identity, c.tenant, roles=["technician"], organization_id=sub
    )
    to_person = await new_work_order(stack, c)
    to_organisation = await new_work_order(stack, c, scheduled=False)
    finished = await new_work_order(stack, c)
    await assign(stack, c, to_person, assignee_user_id=their_technician.id)
    await assign(stack, c, to_organisation, organization_id=sub)
    await assign(stack, c, finished, assignee_user_id=their_technician.id)
    started = await stack.work_order.StartWorkOrder(
        pb.StartWorkOrderRequest(id=to_person.id),
        metadata=their_technician.work_order,
        timeout=TIMEOUT,
    )
    assert started.work_order.status == pb.WORK_ORDER_STATUS_IN_PROGRESS
    await stack.work_order.StartWorkOrder(
        pb.StartWorkOrderRequest(id=finished.id),
        metadata=their_technician.work_order,
        timeout=TIMEOUT,
    )
    await stack.work_order.CompleteWorkOrder(
        pb.CompleteWorkOrderRequest(id=finished.id),
        metadata=their_technician.work_order,
        timeout=TIMEOUT,
    )
    await eventually(lambda: reveal(stack, c.site_id, their_technician), DOOR_CODE)

    await stack.identity.stub.UpdateOrganization(
        identity_pb2.UpdateOrganizationRequest(
            id=sub, update_mask=["dpa_expires_on"], dpa_expires_on="2021-01-01"
        ),
        metadata=bearer_metadata(c.tenant.admin_identity_token),
        timeout=TIMEOUT,
    )
    status, _ = await eventually(
        lambda: status_of(stack, c, to_person.id), pb.WORK_ORDER_STATUS_SCHEDULED
    )
    assert status == pb.WORK_ORDER_STATUS_SCHEDULED
    status, _ = await eventually(
        lambda: status_of(stack, c, to_organisation.id), pb.WORK_ORDER_STATUS_NEW
    )
    assert status == pb.WORK_ORDER_STATUS_NEW  # no schedule: back to new
    for order_id in (to_person.id, to_organisation.id):
        entry = await last_history(stack, c, order_id)
        assert (entry.action, entry.reason) == ("returned", "dpa_inactive")
        assert (await current(stack, c, order_id)).assignee_organization_id == ""
        left, _ = await eventually(lambda o=order_id: active_grants(stack, c, o), 0)  # type: ignore[misc]
        assert left == 0
    # A finished job is history, not the office's to redo.
    assert await status_of(stack, c, finished.id) == pb.WORK_ORDER_STATUS_COMPLETED
    events = await returned_events(stack, c.tenant.id, 2)
    assert sorted(e.work_order_id for e in events) == sorted([to_person.id, to_organisation.id])
    assert {e.reason for e in events} == {"dpa_inactive"}
    assert {e.previous_assignee_organization_id for e in events} == {sub}
    assert await reveal(stack, c.site_id, their_technician) != DOOR_CODE


async def test_an_erased_customers_work_orders_keep_ids_statuses_and_times_but_no_free_text(
    stack: Stack,
) -> None:
    c = await company(stack)
    title, description = "Mrs Hudson's lift, flat 221B", "Call her on +44 20 7946 0000"
    created = await stack.work_order.CreateWorkOrder(
        pb.CreateWorkOrderRequest(site_id=c.site_id, title=title, description=description),
        metadata=c.dispatcher.work_order,
        timeout=TIMEOUT,
    )
    cancelled = await stack.work_order.CreateWorkOrder(
        pb.CreateWorkOrderRequest(site_id=c.site_id, title=title),
        metadata=c.dispatcher.work_order,
        timeout=TIMEOUT,
    )
    await stack.work_order.CancelWorkOrder(
        pb.CancelWorkOrderRequest(id=cancelled.work_order.id, reason="Mrs Hudson moved away"),
        metadata=c.dispatcher.work_order,
        timeout=TIMEOUT,
    )
    before = {
        o: await current(stack, c, o) for o in (created.work_order.id, cancelled.work_order.id)
    }
    site = await stack.customer_vault.GetSite(
        cv.GetSiteRequest(id=c.site_id), metadata=c.dispatcher.customer_vault, timeout=TIMEOUT
    )
    dpo = await member(stack.identity, c.tenant, roles=["dpo"])
    await stack.customer_vault.EraseCustomer(
        cv.EraseCustomerRequest(id=site.site.customer_id, reason="Art. 17 request"),
        metadata=dpo.customer_vault,
        timeout=TIMEOUT,
    )

    async def title_of(order_id: str) -> str:
        return (await current(stack, c, order_id)).title

    for order_id, was in before.items():
        erased_title, _ = await eventually(lambda o=order_id: title_of(o), "[erased]")  # type: ignore[misc]
        assert erased_title == "[erased]"
        now = await current(stack, c, order_id)
        assert (now.description, now.completion_notes, now.cancel_reason) == ("", "", "")
        assert (now.id, now.site_id, now.status, now.create_time) == (
            was.id,
            was.site_id,
            was.status,
            was.create_time,
        )
        entry = await last_history(stack, c, order_id)
        assert (entry.action, entry.reason) == ("anonymised", "customer_erased")


async def test_moving_a_site_moves_its_open_work_orders_and_rechecks_their_assignees(
    stack: Stack,
) -> None:
    c = await company(stack)
    # Someone who may move the site from one of their areas to the other.
    mover = await member(
        stack.identity, c.tenant, roles=["dispatcher"], area_ids=[c.area, c.other_area]
    )
    everywhere = await member(
        stack.identity, c.tenant, roles=["technician"], area_ids=[c.area, c.other_area]
    )
    north_only = await new_work_order(stack, c)
    both_areas = await new_work_order(stack, c)
    waiting = await new_work_order(stack, c, scheduled=False)
    await assign(stack, c, north_only, assignee_user_id=c.technician.id)
    await assign(stack, c, both_areas, assignee_user_id=everywhere.id)
    await eventually(lambda: reveal(stack, c.site_id, c.technician), DOOR_CODE)

    site = await stack.customer_vault.GetSite(
        cv.GetSiteRequest(id=c.site_id), metadata=mover.customer_vault, timeout=TIMEOUT
    )
    await stack.customer_vault.UpdateSite(
        cv.UpdateSiteRequest(id=c.site_id, etag=site.site.etag, area_id=c.other_area),
        metadata=mover.customer_vault,
        timeout=TIMEOUT,
    )

    async def area_of(order_id: str) -> str:
        return (await current(stack, c, order_id, mover)).area_id

    for order in (north_only, both_areas, waiting):
        area, _ = await eventually(lambda o=order.id: area_of(o), c.other_area)  # type: ignore[misc]
        assert area == c.other_area
    # The technician of the old area only gives the job back; the other keeps it.
    returned = await current(stack, c, north_only.id, mover)
    assert (returned.status, returned.assignee_user_id) == (pb.WORK_ORDER_STATUS_SCHEDULED, "")
    entry = await last_history(stack, c, north_only.id, mover)
    assert (entry.action, entry.reason) == ("returned", "assignee_not_in_area")
    kept = await current(stack, c, both_areas.id, mover)
    assert (kept.status, kept.assignee_user_id) == (pb.WORK_ORDER_STATUS_ASSIGNED, everywhere.id)
    assert (await current(stack, c, waiting.id, mover)).status == pb.WORK_ORDER_STATUS_NEW
    value, _ = await eventually(lambda: reveal(stack, c.site_id, c.technician), "no_active_grant")
    assert value == "no_active_grant"
    assert await reveal(stack, c.site_id, everywhere) == DOOR_CODE
    # The old area's dispatcher no longer sees them; the new area's does.
    try:
        await current(stack, c, waiting.id)
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == grpc.StatusCode.NOT_FOUND
    else:
        pytest.fail("the old area's dispatcher still sees the moved work order")
    (event,) = await returned_events(stack, c.tenant.id, 1)
    assert (event.work_order_id, event.area_id, event.reason) == (
        north_only.id,
        c.other_area,
        "assignee_not_in_area",
    )


async def test_an_own_technician_of_another_area_cannot_be_assigned(stack: Stack) -> None:
    c = await company(stack)
    elsewhere = await member(
        stack.identity, c.tenant, roles=["technician"], area_ids=[c.other_area]
    )
    order = await new_work_order(stack, c)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await assign(stack, c, order, assignee_user_id=elsewhere.id)
    assert (refused.value.code(), error_code(refused.value)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "assignee_not_in_area",
    )


async def test_an_assignee_who_cannot_do_the_job_gives_it_back_with_a_reason(
    stack: Stack,
) -> None:
    c = await company(stack)
    order = await new_work_order(stack, c)
    await assign(stack, c, order, assignee_user_id=c.technician.id)
    await eventually(lambda: reveal(stack, c.site_id, c.technician), DOOR_CODE)

    async def unable(reason: str, who: Member) -> pb.WorkOrder:
        response = await stack.work_order.ReportWorkOrderUnable(
            pb.ReportWorkOrderUnableRequest(
                id=order.id, reason=reason, notes="Gate locked, nobody answers"
            ),
            metadata=who.work_order,
            timeout=TIMEOUT,
        )
        result: pb.WorkOrder = response.work_order
        return result

    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await unable("tired", c.technician)
    assert unknown.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as not_theirs:
        await unable("no_access", c.dispatcher)
    assert not_theirs.value.code() == grpc.StatusCode.PERMISSION_DENIED

    back = await unable("no_access", c.technician)
    assert back.status == pb.WORK_ORDER_STATUS_SCHEDULED
    assert (back.assignee_user_id, back.unable_notes) == ("", "Gate locked, nobody answers")
    entry = await last_history(stack, c, order.id)
    assert (entry.action, entry.reason, entry.actor_id) == (
        "returned",
        "unable_no_access",
        c.technician.id,
    )
    (event,) = await returned_events(stack, c.tenant.id, 1)
    assert (event.reason, event.area_id, event.reference, event.created_by) == (
        "unable_no_access",
        c.area,
        order.reference,
        c.dispatcher.id,
    )
    assert "Gate" not in event.SerializeToString().decode("utf-8", "replace")
    left, _ = await eventually(lambda: active_grants(stack, c, order.id), 0)
    assert left == 0
    # It is not theirs any more: they no longer see it, so cannot report it twice.
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await unable("no_access", c.technician)
    assert again.value.code() == grpc.StatusCode.NOT_FOUND
