"""Who may do what with a work order, what its events say, and bad input."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import grpc
import nats
import pytest
from nats.js.api import DeliverPolicy
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
)

from fieldvault.work_order.v1 import work_order_events_pb2 as events_pb
from fieldvault.work_order.v1 import work_order_pb2 as pb

pytestmark = pytest.mark.integration

PartnerToken = Callable[[str, list[str]], Awaitable[tuple[tuple[str, str], ...]]]


async def refusal(call: object) -> tuple[grpc.StatusCode, str | None]:
    try:
        await call  # type: ignore[misc]
    except grpc.aio.AioRpcError as exc:
        return exc.code(), error_code(exc)
    pytest.fail("the call succeeded")


async def test_a_partner_system_files_and_reads_work_orders_of_its_tenant_only(
    stack: Stack, partner_token: PartnerToken
) -> None:
    c = await company(stack)
    writer = await partner_token(c.tenant.id, ["work_orders:write", "work_orders:read"])
    reader = await partner_token(c.tenant.id, ["work_orders:read"])
    created = await stack.work_order.CreateWorkOrder(
        pb.CreateWorkOrderRequest(site_id=c.site_id, title="Annual HVAC service"),
        metadata=writer,
        timeout=TIMEOUT,
    )
    order = created.work_order
    assert (order.status, order.priority, order.created_by) == (
        pb.WORK_ORDER_STATUS_NEW,
        pb.PRIORITY_NORMAL,
        "client:partner-1",
    )
    seen = await stack.work_order.GetWorkOrder(
        pb.GetWorkOrderRequest(id=order.id), metadata=reader, timeout=TIMEOUT
    )
    assert seen.work_order.status == pb.WORK_ORDER_STATUS_NEW
    assert (
        await refusal(
            stack.work_order.CreateWorkOrder(
                pb.CreateWorkOrderRequest(site_id=c.site_id, title="x"),
                metadata=reader,
                timeout=TIMEOUT,
            )
        )
    )[0] == grpc.StatusCode.PERMISSION_DENIED
    stranger = await partner_token("another-tenant", ["work_orders:read"])
    assert (
        await refusal(
            stack.work_order.GetWorkOrder(
                pb.GetWorkOrderRequest(id=order.id), metadata=stranger, timeout=TIMEOUT
            )
        )
    )[0] == grpc.StatusCode.NOT_FOUND


async def test_a_subcontractor_manager_hands_the_job_to_their_own_technician_only(
    stack: Stack,
) -> None:
    c = await company(stack)
    sub = await stack.identity.new_subcontractor(
        c.tenant, dpa_signed_on="2020-01-01", dpa_expires_on="2099-12-31"
    )
    manager = await member(
        stack.identity, c.tenant, roles=["subcontractor_manager"], organization_id=sub
    )
    their_technician = await member(
        stack.identity, c.tenant, roles=["technician"], organization_id=sub
    )
    order = await new_work_order(stack, c)
    await stack.work_order.AssignWorkOrder(
        pb.AssignWorkOrderRequest(id=order.id, organization_id=sub),
        metadata=c.dispatcher.work_order,
        timeout=TIMEOUT,
    )
    assert (
        await refusal(
            stack.work_order.AssignWorkOrder(
                pb.AssignWorkOrderRequest(id=order.id, assignee_user_id=c.technician.id),
                metadata=manager.work_order,
                timeout=TIMEOUT,
            )
        )
    )[0] == grpc.StatusCode.PERMISSION_DENIED
    handed = await stack.work_order.AssignWorkOrder(
        pb.AssignWorkOrderRequest(id=order.id, assignee_user_id=their_technician.id),
        metadata=manager.work_order,
        timeout=TIMEOUT,
    )
    assert handed.work_order.assignee_user_id == their_technician.id
    value, _ = await eventually(lambda: reveal(stack, c.site_id, their_technician), DOOR_CODE)
    assert value == DOOR_CODE


async def test_illegal_moves_and_strangers_are_refused(stack: Stack) -> None:
    c = await company(stack)
    order = await new_work_order(stack, c, scheduled=False)
    assert order.status == pb.WORK_ORDER_STATUS_NEW
    # Nobody can start unassigned work; the dispatcher is not the assignee either.
    assert await refusal(
        stack.work_order.StartWorkOrder(
            pb.StartWorkOrderRequest(id=order.id),
            metadata=c.dispatcher.work_order,
            timeout=TIMEOUT,
        )
    ) == (grpc.StatusCode.PERMISSION_DENIED, "permission_denied")
    await stack.work_order.AssignWorkOrder(
        pb.AssignWorkOrderRequest(id=order.id, assignee_user_id=c.technician.id),
        metadata=c.dispatcher.work_order,
        timeout=TIMEOUT,
    )
    assert await refusal(
        stack.work_order.CompleteWorkOrder(
            pb.CompleteWorkOrderRequest(id=order.id),
            metadata=c.technician.work_order,
            timeout=TIMEOUT,
        )
    ) == (grpc.StatusCode.FAILED_PRECONDITION, "invalid_transition")
    assert (
        await refusal(
            stack.work_order.AssignWorkOrder(
                pb.AssignWorkOrderRequest(id=order.id, assignee_user_id=c.dispatcher.id),
                metadata=c.dispatcher.work_order,
                timeout=TIMEOUT,
            )
        )
    )[1] == "invalid_assignee"
    cancelled = await stack.work_order.CancelWorkOrder(
        pb.CancelWorkOrderRequest(id=order.id, reason="Customer cancelled"),
        metadata=c.dispatcher.work_order,
        timeout=TIMEOUT,
    )
    assert cancelled.work_order.status == pb.WORK_ORDER_STATUS_CANCELLED
    value, _ = await eventually(lambda: reveal(stack, c.site_id, c.technician), "no_active_grant")
    assert value == "no_active_grant"


@pytest.mark.parametrize(
    ("request_fields", "message"),
    [
        ({"title": ""}, "title must be"),
        ({"title": "ok", "priority": 99}, "priority"),
        ({"title": "ok", "site_id": "no-such-site"}, "site not found"),
    ],
)
async def test_bad_input_is_refused_with_a_clear_message(
    stack: Stack, request_fields: dict[str, object], message: str
) -> None:
    c = await company(stack)
    fields = {"site_id": c.site_id, **request_fields}
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.work_order.CreateWorkOrder(
            pb.CreateWorkOrderRequest(**fields),  # type: ignore[arg-type]
            metadata=c.dispatcher.work_order,
            timeout=TIMEOUT,
        )
    assert message in (caught.value.details() or "")


async def test_events_carry_ids_and_facts_only(stack: Stack) -> None:
    c = await company(stack)
    title, description = "Mrs Hudson's lift, flat 221B", "Call her on +44 20 7946 0000"
    created = await stack.work_order.CreateWorkOrder(
        pb.CreateWorkOrderRequest(site_id=c.site_id, title=title, description=description),
        metadata=c.dispatcher.work_order,
        timeout=TIMEOUT,
    )
    await stack.work_order.AssignWorkOrder(
        pb.AssignWorkOrderRequest(id=created.work_order.id, assignee_user_id=c.technician.id),
        metadata=c.dispatcher.work_order,
        timeout=TIMEOUT,
    )
    client = await nats.connect(stack.work_order_settings.nats_url)
    payloads: list[bytes] = []
    headers: list[bytes] = []
    try:
        subscription = await client.jetstream().subscribe(
            f"fieldvault.{c.tenant.id}.work_order.v1.>",
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.ALL,
        )
        try:
            while len(payloads) < 2:
                message = await subscription.next_msg(timeout=5)
                payloads.append(message.data)
                headers.append(json.dumps(message.headers or {}).encode())
        finally:
            await subscription.unsubscribe()
    finally:
        await client.close()
    kinds = [events_pb.WorkOrderEvent.FromString(payload).type for payload in payloads]
    assert kinds[:2] == ["work_order.created", "work_order.assigned"]
    for payload in payloads + headers:
        for secret in (title, description, "Hudson", "7946", DOOR_CODE, "Baker"):
            assert secret.encode() not in payload
