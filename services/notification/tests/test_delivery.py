"""An assignment reaches the technician's inbox, email and a partner's webhook, exactly
once each, even when the event is delivered again; a failing receiver is retried."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from notification_fixtures import Notification
from notification_testkit import eventually, publish, text_of
from sqlalchemy import func, select

from fieldvault.notification.v1 import notification_pb2 as pb
from fieldvault.work_order.v1.work_order_events_pb2 import WorkOrderEvent
from fieldvault_devstack.identity_driver import Tenant
from fieldvault_platform.auth import bearer_metadata
from notification.models import InboxEntry, MessageDelivery, WebhookDelivery
from notification.webhooks.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, verify

pytestmark = pytest.mark.integration


def assignment(
    tenant_id: str, technician_id: str, *, event_type: str = "work_order.assigned"
) -> WorkOrderEvent:
    event = WorkOrderEvent(
        event_id=uuid.uuid4().hex,
        tenant_id=tenant_id,
        type=event_type,
        work_order_id=str(uuid.uuid4()),
        site_id=str(uuid.uuid4()),
        area_id=str(uuid.uuid4()),
        status="assigned",
        priority="urgent",
        assignee_user_id=technician_id,
        actor_id=str(uuid.uuid4()),
        reference=f"WO-{secrets.randbelow(10**6):06d}",
        created_by=str(uuid.uuid4()),
    )
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    event.scheduled_start.FromDatetime(start)
    event.scheduled_end.FromDatetime(start + timedelta(hours=2))
    event.occurred_at.FromDatetime(datetime.now(UTC))
    return event


async def partner_webhook(n: Notification, tenant: Tenant, path: str) -> tuple[str, str]:
    """A webhook made by the tenant's admin; its id and signing secret."""
    admin = await n.people.new_person(tenant, roles=["admin"])
    token = await n.people.exchange(admin.gateway_token, "notification")
    created = await n.stub.CreateWebhook(
        pb.CreateWebhookRequest(url=n.receiver.url(path), events=["*"]),
        metadata=bearer_metadata(token),
    )
    assert created.secret.startswith("whsec_")
    return created.webhook.id, created.secret


async def count(n: Notification, model: type, **where: str) -> int:
    async with n.database.unit_of_work() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(await session.scalar(query) or 0)


async def test_an_assignment_is_told_once_in_the_inbox_by_email_and_by_a_signed_webhook(
    notification: Notification,
) -> None:
    n = notification
    tenant = await n.people.new_tenant()
    technician = await n.people.new_person(tenant, roles=["technician"])
    webhook_id, secret = await partner_webhook(n, tenant, "/hooks/a")
    event = assignment(tenant.id, technician.id)

    await publish(n.js, "work_order", "assigned", event)

    async def told() -> bool:
        return bool(n.mailbox.to(technician.email)) and bool(n.receiver.at("/hooks/a"))

    await eventually(told)
    [mail] = n.mailbox.to(technician.email)
    reference = event.reference
    assert mail["Subject"] == f"Work order {reference} assigned to you"
    text = text_of(mail)
    assert f"/work-orders/{event.work_order_id}" in text and "2026-12-01 08:00 UTC" in text

    [call] = n.receiver.at("/hooks/a")
    assert call.headers[EVENT_ID_HEADER.lower()] == event.event_id
    assert verify(call.headers[SIGNATURE_HEADER.lower()], secret, call.body, now=int(time.time()))
    assert not verify(
        call.headers[SIGNATURE_HEADER.lower()], secret + "x", call.body, now=int(time.time())
    )
    body = json.loads(call.body)
    assert (body["id"], body["type"], body["tenant_id"]) == (
        event.event_id,
        "work_order.assigned",
        tenant.id,
    )
    assert body["data"]["work_order_id"] == event.work_order_id
    assert body["data"]["assignee_user_id"] == technician.id

    mine = await n.stub.ListMyNotifications(
        pb.ListMyNotificationsRequest(),
        metadata=bearer_metadata(await n.people.exchange(technician.gateway_token, "notification")),
    )
    assert [(x.type, x.work_order_id) for x in mine.notifications] == [
        ("work_order.assigned", event.work_order_id)
    ]

    # The same event published again under a new message id, as a relay does after a
    # crash outside JetStream's duplicate window: a real redelivery to the consumer.
    await n.js.publish(
        f"fieldvault.{tenant.id}.work_order.v1.assigned",
        event.SerializeToString(),
        headers={
            "Nats-Msg-Id": uuid.uuid4().hex,
            "Fieldvault-Event-Type": event.DESCRIPTOR.full_name,
        },
    )
    later = assignment(tenant.id, technician.id, event_type="work_order.started")
    await publish(n.js, "work_order", "started", later)
    await eventually(lambda: _delivered(n, webhook_id, later.event_id))
    assert await count(n, InboxEntry, user_id=technician.id) == 1
    assert (
        await count(n, MessageDelivery, user_id=technician.id, channel="email", kind="notification")
        == 1
    )
    assert len(n.mailbox.to(technician.email)) == 1
    assert [r.headers[EVENT_ID_HEADER.lower()] for r in n.receiver.at("/hooks/a")] == [
        event.event_id,
        later.event_id,
    ]


async def _delivered(n: Notification, webhook_id: str, event_id: str) -> bool:
    async with n.database.unit_of_work() as session:
        status = await session.scalar(
            select(WebhookDelivery.status).where(
                WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.event_id == event_id
            )
        )
    return status == "delivered"


async def test_a_receiver_that_fails_twice_gets_the_event_on_the_third_attempt(
    notification: Notification,
) -> None:
    n = notification
    tenant = await n.people.new_tenant()
    technician = await n.people.new_person(tenant, roles=["technician"])
    webhook_id, secret = await partner_webhook(n, tenant, "/hooks/flaky")
    n.receiver.answers["/hooks/flaky"] = [500, 503]
    event = assignment(tenant.id, technician.id)

    await publish(n.js, "work_order", "assigned", event)

    await eventually(lambda: _delivered(n, webhook_id, event.event_id))
    calls = n.receiver.at("/hooks/flaky")
    assert len(calls) == 3
    assert {c.headers[EVENT_ID_HEADER.lower()] for c in calls} == {event.event_id}
    assert all(c.body == calls[0].body for c in calls)
    assert verify(
        calls[2].headers[SIGNATURE_HEADER.lower()], secret, calls[2].body, now=int(time.time())
    )
    admin_token = await n.people.exchange(
        (await n.people.new_person(tenant, roles=["admin"])).gateway_token, "notification"
    )
    log = await n.stub.ListWebhookDeliveries(
        pb.ListWebhookDeliveriesRequest(webhook_id=webhook_id),
        metadata=bearer_metadata(admin_token),
    )
    [entry] = log.deliveries
    assert (entry.status, entry.attempts, entry.last_response_code) == (
        pb.DELIVERY_STATUS_DELIVERED,
        3,
        200,
    )
