"""Dispatching work orders against real identity and customer-vault: grants follow the job."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from work_order_fixtures import Stack
from work_order_testkit import (
    DOOR_CODE,
    TIMEOUT,
    company,
    error_code,
    eventually,
    member,
    new_work_order,
    reveal,
    stamp,
)

from fieldvault.customer_vault.v1 import customer_vault_pb2 as cv
from fieldvault.work_order.v1 import work_order_pb2 as pb

pytestmark = pytest.mark.integration


async def refusal(call: object) -> tuple[grpc.StatusCode, str | None]:
    try:
        await call  # type: ignore[misc]
    except grpc.aio.AioRpcError as exc:
        return exc.code(), error_code(exc)
    pytest.fail("the call succeeded")


async def test_the_job_grants_the_code_while_active_and_completion_ends_it(stack: Stack) -> None:
    c = await company(stack)
    order = await new_work_order(stack, c)
    assert order.status == pb.WORK_ORDER_STATUS_SCHEDULED
    assert await reveal(stack, c.site_id, c.technician) == "no_active_grant"

    assigned = await stack.work_order.AssignWorkOrder(
        pb.AssignWorkOrderRequest(id=order.id, etag=order.etag, assignee_user_id=c.technician.id),
        metadata=c.dispatcher.work_order,
        timeout=TIMEOUT,
    )
    assert assigned.work_order.status == pb.WORK_ORDER_STATUS_ASSIGNED
    value, waited = await eventually(lambda: reveal(stack, c.site_id, c.technician), DOOR_CODE)
    assert value == DOOR_CODE and waited < 1.0

    mine = await stack.work_order.ListMyWorkOrders(
        pb.ListMyWorkOrdersRequest(), metadata=c.technician.work_order, timeout=TIMEOUT
    )
    assert [o.id for o in mine.work_orders] == [order.id]
    started = await stack.work_order.StartWorkOrder(
        pb.StartWorkOrderRequest(id=order.id), metadata=c.technician.work_order, timeout=TIMEOUT
    )
    completed = await stack.work_order.CompleteWorkOrder(
        pb.CompleteWorkOrderRequest(id=order.id, etag=started.work_order.etag, notes="Fixed"),
        metadata=c.technician.work_order,
        timeout=TIMEOUT,
    )
    assert completed.work_order.status == pb.WORK_ORDER_STATUS_COMPLETED
    value, _ = await eventually(lambda: reveal(stack, c.site_id, c.technician), "no_active_grant")
    assert value == "no_active_grant"

    auditor = await member(stack.identity, c.tenant, roles=["dispatcher"], area_ids=[c.area])
    grants = await stack.customer_vault.ListGrants(
        cv.ListGrantsRequest(work_order_id=order.id),
        metadata=auditor.customer_vault,
        timeout=TIMEOUT,
    )
    assert [(g.user_id, g.active, g.revoke_reason) for g in grants.grants] == [
        (c.technician.id, False, "completed")
    ]
    history = await stack.work_order.ListWorkOrderHistory(
        pb.ListWorkOrderHistoryRequest(id=order.id),
        metadata=c.dispatcher.work_order,
        timeout=TIMEOUT,
    )
    assert [e.action for e in history.entries] == [
        "created",
        "scheduled",
        "assigned",
        "started",
        "completed",
    ]
    # A completed job takes no more transitions.
    assert await refusal(
        stack.work_order.CancelWorkOrder(
            pb.CancelWorkOrderRequest(id=order.id, reason="too late"),
            metadata=c.dispatcher.work_order,
            timeout=TIMEOUT,
        )
    ) == (grpc.StatusCode.FAILED_PRECONDITION, "invalid_transition")


async def test_a_job_days_ahead_is_listed_at_once_but_opens_the_codes_only_shortly_before_it(
    stack: Stack,
) -> None:
    c = await company(stack)
    order = await new_work_order(stack, c, starts_in=timedelta(days=5))
    assigned = await stack.work_order.AssignWorkOrder(
        pb.AssignWorkOrderRequest(id=order.id, etag=order.etag, assignee_user_id=c.technician.id),
        metadata=c.dispatcher.work_order,
        timeout=TIMEOUT,
    )
    mine = await stack.work_order.ListMyWorkOrders(
        pb.ListMyWorkOrdersRequest(), metadata=c.technician.work_order, timeout=TIMEOUT
    )
    assert [o.id for o in mine.work_orders] == [order.id]

    async def opening() -> datetime | None:
        grants = await stack.customer_vault.ListGrants(
            cv.ListGrantsRequest(work_order_id=order.id),
            metadata=c.dispatcher.customer_vault,
            timeout=TIMEOUT,
        )
        return grants.grants[0].valid_from.ToDatetime(tzinfo=UTC) if grants.grants else None

    # The grant reached customer-vault, and opens an hour (the margin) before the start.
    async def granted() -> bool:
        return await opening() is not None

    await eventually(granted, True)
    valid_from = await opening()
    expected = order.scheduled_start.ToDatetime(tzinfo=UTC) - timedelta(
        minutes=stack.work_order_settings.grant_margin_minutes
    )
    assert valid_from is not None and abs(valid_from - expected) < timedelta(seconds=1)
    assert await reveal(stack, c.site_id, c.technician) == "no_active_grant"

    # The job is brought forward to now: the grant moves with it.
    now = datetime.now(UTC)
    await stack.work_order.UpdateWorkOrder(
        pb.UpdateWorkOrderRequest(
            id=order.id,
            etag=assigned.work_order.etag,
            scheduled_start=stamp(now),  # type: ignore[arg-type]
            scheduled_end=stamp(now + timedelta(hours=2)),  # type: ignore[arg-type]
        ),
        metadata=c.dispatcher.work_order,
        timeout=TIMEOUT,
    )
    value, waited = await eventually(lambda: reveal(stack, c.site_id, c.technician), DOOR_CODE)
    assert value == DOOR_CODE and waited < 1.0


async def test_reassigning_moves_the_reveal_to_the_new_technician(stack: Stack) -> None:
    c = await company(stack)
    second = await member(stack.identity, c.tenant, roles=["technician"], area_ids=[c.area])
    order = await new_work_order(stack, c)
    for technician in (c.technician, second):
        await stack.work_order.AssignWorkOrder(
            pb.AssignWorkOrderRequest(id=order.id, assignee_user_id=technician.id),
            metadata=c.dispatcher.work_order,
            timeout=TIMEOUT,
        )
        await eventually(lambda t=technician: reveal(stack, c.site_id, t), DOOR_CODE)  # type: ignore[misc]
    assert await reveal(stack, c.site_id, second) == DOOR_CODE
    assert await reveal(stack, c.site_id, c.technician) == "no_active_grant"


async def test_a_subcontractor_without_an_active_dpa_cannot_be_assigned(stack: Stack) -> None:
    c = await company(stack)
    lapsed = await stack.identity.new_subcontractor(
        c.tenant, dpa_signed_on="2020-01-01", dpa_expires_on="2021-01-01"
    )
    active = await stack.identity.new_subcontractor(
        c.tenant, dpa_signed_on="2020-01-01", dpa_expires_on="2099-12-31"
    )
    order = await new_work_order(stack, c)
    assert await refusal(
        stack.work_order.AssignWorkOrder(
            pb.AssignWorkOrderRequest(id=order.id, organization_id=lapsed),
            metadata=c.dispatcher.work_order,
            timeout=TIMEOUT,
        )
    ) == (grpc.StatusCode.FAILED_PRECONDITION, "dpa_inactive")
    with_job, without_job = await asyncio.gather(
        member(stack.identity, c.tenant, roles=["technician"], organization_id=active),
        member(stack.identity, c.tenant, roles=["technician"], organization_id=active),
    )
    await stack.work_order.AssignWorkOrder(
        pb.AssignWorkOrderRequest(id=order.id, assignee_user_id=with_job.id),
        metadata=c.dispatcher.work_order,
        timeout=TIMEOUT,
    )
    value, _ = await eventually(lambda: reveal(stack, c.site_id, with_job), DOOR_CODE)
    assert value == DOOR_CODE
    assert await reveal(stack, c.site_id, without_job) == "no_active_grant"


async def test_assignment_is_durable_while_customer_vault_is_down(stack: Stack) -> None:
    c = await company(stack)
    order = await new_work_order(stack, c)
    await stack.stop_customer_vault()
    assigned = await stack.work_order.AssignWorkOrder(
        pb.AssignWorkOrderRequest(id=order.id, assignee_user_id=c.technician.id),
        metadata=c.dispatcher.work_order,
        timeout=TIMEOUT,
    )
    assert assigned.work_order.status == pb.WORK_ORDER_STATUS_ASSIGNED
    await asyncio.sleep(1.0)  # the grant task fails and waits meanwhile
    await stack.start_customer_vault()
    value, _ = await eventually(
        lambda: reveal(stack, c.site_id, c.technician), DOOR_CODE, within=10.0
    )
    assert value == DOOR_CODE


async def test_two_updates_from_the_same_etag_one_wins_the_other_is_refused(
    stack: Stack,
) -> None:
    c = await company(stack)
    order = await new_work_order(stack, c)
    results = await asyncio.gather(
        *(
            stack.work_order.UpdateWorkOrder(
                pb.UpdateWorkOrderRequest(id=order.id, etag=order.etag, title=title),
                metadata=c.dispatcher.work_order,
                timeout=TIMEOUT,
            )
            for title in ("First title", "Second title")
        ),
        return_exceptions=True,
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(won) == 1 and len(lost) == 1
    assert (lost[0].code(), error_code(lost[0])) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "precondition_failed",
    )
    current = await stack.work_order.GetWorkOrder(
        pb.GetWorkOrderRequest(id=order.id), metadata=c.dispatcher.work_order, timeout=TIMEOUT
    )
    assert current.work_order.title == won[0].work_order.title  # type: ignore[union-attr]
    # Exactly one change went in on top of the version both read.
    assert int(current.work_order.etag.strip('"')) == int(order.etag.strip('"')) + 1


async def test_people_of_another_area_neither_see_nor_act_on_the_work_order(
    stack: Stack,
) -> None:
    c = await company(stack)
    order = await new_work_order(stack, c)
    elsewhere = await member(
        stack.identity, c.tenant, roles=["technician", "dispatcher"], area_ids=[c.other_area]
    )
    for call, request in (
        (stack.work_order.GetWorkOrder, pb.GetWorkOrderRequest(id=order.id)),
        (stack.work_order.StartWorkOrder, pb.StartWorkOrderRequest(id=order.id)),
        (
            stack.work_order.AssignWorkOrder,
            pb.AssignWorkOrderRequest(id=order.id, assignee_user_id=elsewhere.id),
        ),
    ):
        code, _ = await refusal(call(request, metadata=elsewhere.work_order, timeout=TIMEOUT))  # type: ignore[operator]
        assert code == grpc.StatusCode.NOT_FOUND
    listed = await stack.work_order.ListWorkOrders(
        pb.ListWorkOrdersRequest(), metadata=elsewhere.work_order, timeout=TIMEOUT
    )
    assert list(listed.work_orders) == []


async def test_every_job_gets_the_next_reference_of_its_tenant_and_can_be_found_by_it(
    stack: Stack,
) -> None:
    c = await company(stack)
    first, second = await asyncio.gather(new_work_order(stack, c), new_work_order(stack, c))
    assert sorted([first.reference, second.reference]) == ["WO-000001", "WO-000002"]
    # Another tenant counts its own jobs.
    other = await company(stack)
    assert (await new_work_order(stack, other)).reference == "WO-000001"

    async def found(reference: str) -> list[str]:
        listed = await stack.work_order.ListWorkOrders(
            pb.ListWorkOrdersRequest(reference=reference),
            metadata=c.dispatcher.work_order,
            timeout=TIMEOUT,
        )
        return [order.id for order in listed.work_orders]

    assert await found(second.reference) == [second.id]
    number = second.reference.removeprefix("WO-").lstrip("0")
    assert await found(f"wo-{number}") == [second.id]  # as a person types it on the phone
    assert await found(number) == [second.id]
    assert await found("WO-000099") == []
    assert (await refusal(found("B6E34952")))[0] == grpc.StatusCode.INVALID_ARGUMENT
    # Stable: changing the job keeps it.
    got = await stack.work_order.GetWorkOrder(
        pb.GetWorkOrderRequest(id=first.id), metadata=c.dispatcher.work_order, timeout=TIMEOUT
    )
    assert got.work_order.reference == first.reference
