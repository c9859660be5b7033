"""Partner webhooks: subscriptions to work-order events, and their deliveries.

Admins manage all of their tenant's subscriptions; a partner client with
``webhooks:manage`` manages (and sees) only its own. notification decides.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from fieldvault.notification.v1 import notification_pb2 as pb
from gateway.for_caller import NotificationForCaller
from gateway.idempotency import RESPONSES as CREATE_RESPONSES
from gateway.idempotency import IdempotencyKey
from gateway.notification_models import (
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookDelivery,
    WebhookDeliveryList,
    WebhookList,
)
from gateway.rest import NO_STORE, PageSize

router = APIRouter(tags=["webhooks"])


@router.get("/v1/webhooks", summary="List webhook subscriptions")
async def list_webhooks(
    notifications: NotificationForCaller, page_size: PageSize = 50, page_token: str = ""
) -> WebhookList:
    result = await notifications.call(
        notifications.stub.ListWebhooks,
        pb.ListWebhooksRequest(page_size=page_size, page_token=page_token),
    )
    return WebhookList(
        items=[Webhook.of(webhook) for webhook in result.webhooks],
        next_page_token=result.next_page_token,
    )


@router.post(
    "/v1/webhooks",
    status_code=201,
    summary="Subscribe a URL to events; the signing secret is shown once",
    dependencies=[IdempotencyKey],
    responses=CREATE_RESPONSES,
)
async def create_webhook(
    body: WebhookCreate, notifications: NotificationForCaller, response: Response
) -> WebhookCreated:
    """Deliveries carry ``Fieldvault-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
    "<t>.<body>">`` made with ``secret``, and ``Fieldvault-Event-Id``."""
    result = await notifications.call(
        notifications.stub.CreateWebhook,
        pb.CreateWebhookRequest(url=body.url, events=list(body.events)),
    )
    response.headers.update(NO_STORE)
    return WebhookCreated.created(result)


@router.delete("/v1/webhooks/{webhook_id}", status_code=204, summary="Delete a webhook")
async def delete_webhook(webhook_id: str, notifications: NotificationForCaller) -> Response:
    await notifications.call(
        notifications.stub.DeleteWebhook, pb.DeleteWebhookRequest(id=webhook_id)
    )
    return Response(status_code=204)


@router.post(
    "/v1/webhooks/{webhook_id}/enable",
    summary="Turn a disabled webhook back on; its URL is checked again as at creation",
)
async def enable_webhook(webhook_id: str, notifications: NotificationForCaller) -> Webhook:
    """Its failure count starts from zero. Enabling an active webhook changes nothing.
    One whose API client was revoked stays off: 409 ``webhook_client_revoked``."""
    result = await notifications.call(
        notifications.stub.EnableWebhook, pb.EnableWebhookRequest(id=webhook_id)
    )
    return Webhook.of(result.webhook)


@router.get(
    "/v1/webhooks/{webhook_id}/deliveries",
    summary="A webhook's deliveries: status, attempts, last response code",
)
async def list_webhook_deliveries(
    webhook_id: str,
    notifications: NotificationForCaller,
    page_size: PageSize = 50,
    page_token: str = "",
) -> WebhookDeliveryList:
    result = await notifications.call(
        notifications.stub.ListWebhookDeliveries,
        pb.ListWebhookDeliveriesRequest(
            webhook_id=webhook_id, page_size=page_size, page_token=page_token
        ),
    )
    return WebhookDeliveryList(
        items=[WebhookDelivery.of(delivery) for delivery in result.deliveries],
        next_page_token=result.next_page_token,
    )
