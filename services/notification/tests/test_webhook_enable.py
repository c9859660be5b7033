"""Turning a disabled webhook back on: who may, what is checked again, and what never comes back."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest
from notification_fixtures import Notification
from notification_testkit import eventually, partner, publish
from test_delivery import assignment

from fieldvault.identity.v1 import identity_pb2
from fieldvault.notification.v1 import notification_pb2 as pb
from fieldvault_platform.auth import bearer_metadata
from fieldvault_platform.errors import ERROR_CODE_KEY, InvalidArgument
from notification.models import Webhook
from notification.webhooks import subscriptions

pytestmark = pytest.mark.integration


async def disabled_by_failures(n: Notification, webhook_id: str, failures: int = 5) -> None:
    """What the sender does after sustained failure (without waiting for the retries)."""
    async with n.database.unit_of_work() as session:
        webhook = await session.get(Webhook, webhook_id)
        assert webhook is not None
        webhook.consecutive_failures = failures
        subscriptions.disable(
            session, webhook, reason=subscriptions.DELIVERY_FAILURES, now=datetime.now(UTC)
        )


async def test_an_admin_re_enables_a_disabled_webhook_and_deliveries_resume(
    notification: Notification,
) -> None:
    n = notification
    tenant = await n.people.new_tenant()
    admin = await n.people.new_person(tenant, roles=["admin"])
    office = bearer_metadata(await n.people.exchange(admin.gateway_token, "notification"))
    created = await n.stub.CreateWebhook(
        pb.CreateWebhookRequest(url=n.receiver.url("/back"), events=["*"]), metadata=office
    )
    await disabled_by_failures(n, created.webhook.id)

    other = await n.people.new_tenant()
    stranger = bearer_metadata(
        await partner(n.people, other, ["webhooks:manage", "work_orders:read"])
    )
    with pytest.raises(grpc.aio.AioRpcError) as hidden:
        await n.stub.EnableWebhook(
            pb.EnableWebhookRequest(id=created.webhook.id), metadata=stranger
        )
    assert hidden.value.code() == grpc.StatusCode.NOT_FOUND

    enabled = await n.stub.EnableWebhook(
        pb.EnableWebhookRequest(id=created.webhook.id), metadata=office
    )
    assert enabled.webhook.status == pb.WEBHOOK_STATUS_ACTIVE
    assert not enabled.webhook.HasField("disable_time")
    assert "whsec_" not in str(enabled)
    async with n.database.unit_of_work() as session:
        row = await session.get(Webhook, created.webhook.id)
        assert row is not None
        assert (row.status, row.consecutive_failures) == ("active", 0)
    # A retried call answers the same.
    again = await n.stub.EnableWebhook(
        pb.EnableWebhookRequest(id=created.webhook.id), metadata=office
    )
    assert again.webhook == enabled.webhook

    await publish(
        n.js, "work_order", "created", assignment(tenant.id, "", event_type="work_order.created")
    )

    async def delivered_again() -> bool:
        return bool(n.receiver.at("/back"))

    await eventually(delivered_again)


async def test_a_partner_re_enables_its_own_webhook_but_not_the_admins(
    notification: Notification,
) -> None:
    n = notification
    tenant = await n.people.new_tenant()
    admin = await n.people.new_person(tenant, roles=["admin"])
    office = bearer_metadata(await n.people.exchange(admin.gateway_token, "notification"))
    portal = bearer_metadata(
        await partner(n.people, tenant, ["webhooks:manage", "work_orders:read"])
    )
    own = await n.stub.CreateWebhook(
        pb.CreateWebhookRequest(url=n.receiver.url("/own"), events=["*"]), metadata=portal
    )
    admins = await n.stub.CreateWebhook(
        pb.CreateWebhookRequest(url=n.receiver.url("/admins"), events=["*"]), metadata=office
    )
    await disabled_by_failures(n, own.webhook.id)
    await disabled_by_failures(n, admins.webhook.id)

    enabled = await n.stub.EnableWebhook(
        pb.EnableWebhookRequest(id=own.webhook.id), metadata=portal
    )
    assert enabled.webhook.status == pb.WEBHOOK_STATUS_ACTIVE
    with pytest.raises(grpc.aio.AioRpcError) as hidden:
        await n.stub.EnableWebhook(pb.EnableWebhookRequest(id=admins.webhook.id), metadata=portal)
    assert hidden.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_webhook_whose_destination_now_resolves_inside_is_not_re_enabled(
    notification: Notification,
) -> None:
    n = notification  # the fixture allows local receivers; the check runs here as in production
    tenant = await n.people.new_tenant()
    admin = await n.people.new_person(tenant, roles=["admin"])
    office = bearer_metadata(await n.people.exchange(admin.gateway_token, "notification"))
    created = await n.stub.CreateWebhook(
        pb.CreateWebhookRequest(url="https://localhost/hook", events=["*"]), metadata=office
    )
    await disabled_by_failures(n, created.webhook.id)
    who = subscriptions.Manager(tenant.id, admin.id, sees_all=True, reads_work_orders=True)

    with pytest.raises(InvalidArgument) as refused:
        async with n.database.unit_of_work() as session:
            await subscriptions.enable(
                session, who, webhook_id=created.webhook.id, allow_insecure=False
            )
    assert "url" in str(refused.value)
    async with n.database.unit_of_work() as session:
        row = await session.get(Webhook, created.webhook.id)
        assert row is not None
        assert (row.status, row.consecutive_failures) == ("disabled", 5)


async def test_a_webhook_of_a_revoked_api_client_is_never_re_enabled(
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
    live = await n.stub.CreateWebhook(
        pb.CreateWebhookRequest(url=n.receiver.url("/live"), events=["*"]), metadata=portal
    )
    # Already off for failures when the client is revoked: it must not come back either.
    failing = await n.stub.CreateWebhook(
        pb.CreateWebhookRequest(url=n.receiver.url("/failing"), events=["*"]), metadata=portal
    )
    await disabled_by_failures(n, failing.webhook.id)

    await n.people.stub.DeleteApiClient(
        identity_pb2.DeleteApiClientRequest(id=client.api_client.id),
        metadata=bearer_metadata(tenant.admin_identity_token),
    )

    async def admins_told() -> bool:
        listed = await n.stub.ListMyNotifications(pb.ListMyNotificationsRequest(), metadata=office)
        return any(x.type == "webhook.disabled_client_revoked" for x in listed.notifications)

    await eventually(admins_told, timeout=20)
    for webhook_id in (live.webhook.id, failing.webhook.id):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await n.stub.EnableWebhook(pb.EnableWebhookRequest(id=webhook_id), metadata=office)
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        code = dict(refused.value.trailing_metadata() or ())[ERROR_CODE_KEY]
        assert code == "webhook_client_revoked"
    hooks = (await n.stub.ListWebhooks(pb.ListWebhooksRequest(), metadata=office)).webhooks
    assert {hook.status for hook in hooks} == {pb.WEBHOOK_STATUS_DISABLED}
