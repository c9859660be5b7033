"""Webhook subscriptions: who may make and see them, and what sustained failure does."""

from __future__ import annotations

import grpc
import pytest
from notification_fixtures import Notification
from notification_testkit import eventually, partner, publish
from test_delivery import assignment

from fieldvault.identity.v1 import identity_pb2
from fieldvault.notification.v1 import notification_pb2 as pb
from fieldvault_platform.auth import bearer_metadata

pytestmark = pytest.mark.integration


async def test_partners_manage_their_own_webhooks_within_their_scopes(
    notification: Notification,
) -> None:
    n = notification
    tenant = await n.people.new_tenant()
    reader = bearer_metadata(
        await partner(n.people, tenant, ["webhooks:manage", "work_orders:read"])
    )
    blind = bearer_metadata(await partner(n.people, tenant, ["webhooks:manage"]))
    no_scope = bearer_metadata(await partner(n.people, tenant, ["work_orders:read"]))
    admin = await n.people.new_person(tenant, roles=["admin"])
    office = bearer_metadata(await n.people.exchange(admin.gateway_token, "notification"))

    created = await n.stub.CreateWebhook(
        pb.CreateWebhookRequest(url=n.receiver.url("/p"), events=["work_order.completed"]),
        metadata=reader,
    )
    assert created.webhook.owner.startswith("client:")
    for metadata, code in (
        (blind, grpc.StatusCode.PERMISSION_DENIED),
        (no_scope, grpc.StatusCode.PERMISSION_DENIED),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await n.stub.CreateWebhook(
                pb.CreateWebhookRequest(url=n.receiver.url("/p"), events=["*"]), metadata=metadata
            )
        assert refused.value.code() == code
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await n.stub.CreateWebhook(
            pb.CreateWebhookRequest(url=n.receiver.url("/p"), events=["work_order.exploded"]),
            metadata=reader,
        )
    assert unknown.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "events" in unknown.value.details()

    mine = await n.stub.ListWebhooks(pb.ListWebhooksRequest(), metadata=reader)
    assert [w.id for w in mine.webhooks] == [created.webhook.id]
    assert (await n.stub.ListWebhooks(pb.ListWebhooksRequest(), metadata=blind)).webhooks == []
    everything = await n.stub.ListWebhooks(pb.ListWebhooksRequest(), metadata=office)
    assert [w.id for w in everything.webhooks] == [created.webhook.id]
    assert "whsec_" not in str(everything)

    other = await n.people.new_tenant()
    stranger = bearer_metadata(
        await partner(n.people, other, ["webhooks:manage", "work_orders:read"])
    )
    with pytest.raises(grpc.aio.AioRpcError) as hidden:
        await n.stub.DeleteWebhook(
            pb.DeleteWebhookRequest(id=created.webhook.id), metadata=stranger
        )
    assert hidden.value.code() == grpc.StatusCode.NOT_FOUND
    await n.stub.DeleteWebhook(pb.DeleteWebhookRequest(id=created.webhook.id), metadata=reader)
    assert (await n.stub.ListWebhooks(pb.ListWebhooksRequest(), metadata=reader)).webhooks == []


async def test_a_webhook_failing_for_good_is_disabled_and_the_admins_are_told(
    notification: Notification,
) -> None:
    n = notification  # webhook_max_attempts=3, webhook_disable_after_failures=2
    tenant = await n.people.new_tenant()
    admin = await n.people.new_person(tenant, roles=["admin"])
    office = bearer_metadata(await n.people.exchange(admin.gateway_token, "notification"))
    created = await n.stub.CreateWebhook(
        pb.CreateWebhookRequest(url=n.receiver.url("/down"), events=["*"]), metadata=office
    )
    n.receiver.answers["/down"] = [500] * 6
    for _ in range(2):
        await publish(
            n.js,
            "work_order",
            "created",
            assignment(tenant.id, "", event_type="work_order.created"),
        )

    async def admin_told() -> bool:
        listed = await n.stub.ListMyNotifications(pb.ListMyNotificationsRequest(), metadata=office)
        return any(x.type == "webhook.disabled" for x in listed.notifications)

    await eventually(admin_told, timeout=20)
    [webhook] = (await n.stub.ListWebhooks(pb.ListWebhooksRequest(), metadata=office)).webhooks
    assert webhook.status == pb.WEBHOOK_STATUS_DISABLED
    assert len(n.receiver.at("/down")) == 6
    log = await n.stub.ListWebhookDeliveries(
        pb.ListWebhookDeliveriesRequest(webhook_id=created.webhook.id), metadata=office
    )
    assert [(d.status, d.attempts, d.last_response_code) for d in log.deliveries] == [
        (pb.DELIVERY_STATUS_FAILED, 3, 500)
    ] * 2
    # Nothing more is sent to a disabled subscription (a live one shows the event went out).
    await n.stub.CreateWebhook(
        pb.CreateWebhookRequest(url=n.receiver.url("/alive"), events=["*"]), metadata=office
    )
    await publish(
        n.js, "work_order", "created", assignment(tenant.id, "", event_type="work_order.created")
    )

    async def alive_got_it() -> bool:
        return bool(n.receiver.at("/alive"))

    await eventually(alive_got_it)
    assert len(n.receiver.at("/down")) == 6


async def test_revoking_a_partners_api_client_disables_its_webhooks_and_tells_the_admins(
    notification: Notification,
) -> None:
    n = notification
    tenant = await n.people.new_tenant()
    admin = await n.people.new_person(tenant, roles=["admin"])
    office = bearer_metadata(await n.people.exchange(admin.gateway_token, "notification"))
    client = await n.people.stub.CreateApiClient(
        identity_pb2.CreateApiClientRequest(
            name="Facility portal", scopes=["webhooks:manage", "work_orders:read"]
        ),
        metadata=bearer_metadata(tenant.admin_identity_token),
    )
    issued = await n.people.stub.IssueClientToken(
        identity_pb2.IssueClientTokenRequest(
            client_id=client.api_client.client_id, client_secret=client.client_secret
        )
    )
    portal = bearer_metadata(await n.people.exchange(issued.access_token, "notification"))
    for path, metadata in (("/portal", portal), ("/portal-too", portal), ("/office", office)):
        await n.stub.CreateWebhook(
            pb.CreateWebhookRequest(url=n.receiver.url(path), events=["*"]), metadata=metadata
        )

    await n.people.stub.DeleteApiClient(
        identity_pb2.DeleteApiClientRequest(id=client.api_client.id),
        metadata=bearer_metadata(tenant.admin_identity_token),
    )

    async def admins_told() -> bool:
        listed = await n.stub.ListMyNotifications(pb.ListMyNotificationsRequest(), metadata=office)
        return sum(x.type == "webhook.disabled_client_revoked" for x in listed.notifications) == 2

    await eventually(admins_told, timeout=20)
    hooks = (await n.stub.ListWebhooks(pb.ListWebhooksRequest(), metadata=office)).webhooks
    status = {hook.url.rsplit("/", 1)[1]: hook.status for hook in hooks}
    assert status == {
        "portal": pb.WEBHOOK_STATUS_DISABLED,
        "portal-too": pb.WEBHOOK_STATUS_DISABLED,
        "office": pb.WEBHOOK_STATUS_ACTIVE,
    }
    # The client's own token is refused here too (notification's deny list).
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await n.stub.ListWebhooks(pb.ListWebhooksRequest(), metadata=portal)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED

    await publish(
        n.js, "work_order", "created", assignment(tenant.id, "", event_type="work_order.created")
    )

    async def office_got_it() -> bool:
        return bool(n.receiver.at("/office"))

    await eventually(office_got_it)
    assert n.receiver.at("/portal") == n.receiver.at("/portal-too") == []
