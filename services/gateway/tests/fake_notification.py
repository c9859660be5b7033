"""A stand-in for notification's gRPC API, for the gateway's own tests.

It speaks the real contract (``NotificationService`` on a real grpc.aio server with
the services' error interceptor), keeps its state in memory, refuses any token that
is not identity's exchanged token for the ``notification`` audience (the parked
events: anything but the platform operator's token), and records every request with
its metadata so a test can see exactly what the gateway forwarded. Its rules are the
contract's, in small: the inbox is the caller's own, a stale etag answers
FAILED_PRECONDITION ``precondition_failed``, webhooks are an admin's or a partner's
with ``webhooks:manage`` (who sees only its own), and another's object is NOT_FOUND.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from google.protobuf.message import Message

from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault.notification.v1 import notification_pb2 as pb
from fieldvault.notification.v1 import notification_pb2_grpc
from fieldvault_platform.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)

from .fake_common import Call, bearer_claims, now, record
from .fake_identity import CLIENT_ID, OPERATOR_TOKEN, TENANT, USER, FakeIdentity

AUDIENCE = "notification"
#: The partner client of the fake identity, as notification names it.
PARTNER = f"client:{CLIENT_ID}"
#: The one signing secret the fake hands out.
WEBHOOK_SECRET = "CANARY-webhook-secret-5e1d"
_MASKABLE = {"email", "sms", "sms_number", "muted_types"}


def _build(message: Message, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if isinstance(value, Message):
            getattr(message, name).CopyFrom(value)
        elif isinstance(value, list):
            getattr(message, name)[:] = value
        else:
            setattr(message, name, value)


class FakeNotification(notification_pb2_grpc.NotificationServiceServicer):
    def __init__(self, identity: FakeIdentity) -> None:
        self.identity = identity
        self.calls: dict[str, list[Call]] = defaultdict(list)
        #: Oldest first; each with its recipient's id.
        self.notifications: dict[str, tuple[str, pb.Notification]] = {}
        self.preferences = pb.Preferences(email=True, sms=False, etag='"1"')
        self.webhooks: dict[str, pb.Webhook] = {}
        #: Webhooks whose API client was revoked: never enabled again.
        self.client_revoked: set[str] = set()
        self.deliveries: list[pb.WebhookDelivery] = []
        self.parked: list[pb.ParkedEvent] = []
        #: What every list answers as its next page token.
        self.next_page_token = ""

    # --- helpers for tests -----------------------------------------------------

    def requests(self, method: str) -> list[Any]:
        return [call.request for call in self.calls[method]]

    def metadata(self, method: str) -> list[dict[str, str]]:
        return [call.metadata for call in self.calls[method]]

    def notify(self, recipient: str = USER, **fields: Any) -> pb.Notification:
        """A notification put straight into ``recipient``'s inbox (default: unread)."""
        notification = pb.Notification(
            id=f"n-{len(self.notifications) + 1}",
            type="work_order.assigned",
            subject="Work order WO-1 assigned to you",
            body="Work order WO-1 (priority high) is assigned to you.",
            link="/work-orders/wo-1",
            work_order_id="wo-1",
            create_time=now(),
        )
        _build(notification, fields)
        self.notifications[notification.id] = (recipient, notification)
        return notification

    def add_webhook(self, **fields: Any) -> pb.Webhook:
        """A webhook put straight into the store (default: active, the admin's)."""
        webhook = pb.Webhook(
            id=f"wh-{len(self.webhooks) + 1}",
            tenant_id=TENANT,
            url="https://partner.example/hooks",
            events=["*"],
            status=pb.WEBHOOK_STATUS_ACTIVE,
            owner=USER,
            create_time=now(),
        )
        _build(webhook, fields)
        self.webhooks[webhook.id] = webhook
        return webhook

    def add_delivery(self, **fields: Any) -> pb.WebhookDelivery:
        delivery = pb.WebhookDelivery(
            id=f"d-{len(self.deliveries) + 1}",
            webhook_id="wh-1",
            event_id=f"ev-{len(self.deliveries) + 1}",
            event_type="work_order.created",
            status=pb.DELIVERY_STATUS_PENDING,
            create_time=now(),
        )
        _build(delivery, fields)
        self.deliveries.append(delivery)
        return delivery

    def park(self, **fields: Any) -> pb.ParkedEvent:
        event = pb.ParkedEvent(
            consumer="notification-inbox",
            event_id=f"ev-parked-{len(self.parked) + 1}",
            subject="fieldvault.work_order.assigned",
            delivery_count=5,
            error_type="IntegrityError",
            park_time=now(),
        )
        _build(event, fields)
        self.parked.append(event)
        return event

    # --- the rules ---------------------------------------------------------------

    def _begin(self, method: str, request: Message, context: Any) -> dict[str, Any]:
        """Record the call and verify its token as notification would; the caller's claims."""
        call = record(self.calls, method, request, context)
        return bearer_claims(call.metadata, self.identity.key.public_key(), AUDIENCE)

    @staticmethod
    def _manager(claims: dict[str, Any]) -> tuple[str, bool]:
        """Who manages webhooks, and whether they see all of the tenant's."""
        subject = str(claims["sub"])
        if subject.startswith("client:"):
            if "webhooks:manage" not in str(claims.get("scope", "")).split():
                raise PermissionDenied("managing webhooks needs webhooks:manage")
            return subject, False
        if "admin" not in claims.get("roles", []):
            raise PermissionDenied("managing webhooks needs an admin")
        return subject, True

    def _webhook(self, webhook_id: str, claims: dict[str, Any]) -> pb.Webhook:
        owner, sees_all = self._manager(claims)
        webhook = self.webhooks.get(webhook_id)
        if webhook is None or not (sees_all or webhook.owner == owner):
            raise NotFound("no such webhook")
        return webhook

    def _visible(self, claims: dict[str, Any]) -> list[pb.Webhook]:
        owner, sees_all = self._manager(claims)
        return [w for w in self.webhooks.values() if sees_all or w.owner == owner]

    # --- the RPCs ------------------------------------------------------------------

    async def ListMyNotifications(
        self, request: Any, context: Any
    ) -> pb.ListMyNotificationsResponse:
        user = self._begin("ListMyNotifications", request, context)["sub"]
        mine = [
            notification
            for recipient, notification in reversed(self.notifications.values())
            if recipient == user
            and not (request.unread_only and notification.HasField("read_time"))
        ]
        return pb.ListMyNotificationsResponse(
            notifications=mine, next_page_token=self.next_page_token
        )

    async def MarkNotificationRead(
        self, request: Any, context: Any
    ) -> pb.MarkNotificationReadResponse:
        user = self._begin("MarkNotificationRead", request, context)["sub"]
        recipient, notification = self.notifications.get(request.id, ("", None))
        if notification is None or recipient != user:
            raise NotFound("no such notification")
        if not notification.HasField("read_time"):
            notification.read_time.CopyFrom(now())
        return pb.MarkNotificationReadResponse(notification=notification)

    async def GetMyPreferences(self, request: Any, context: Any) -> pb.GetMyPreferencesResponse:
        self._begin("GetMyPreferences", request, context)
        return pb.GetMyPreferencesResponse(preferences=self.preferences)

    async def UpdateMyPreferences(
        self, request: Any, context: Any
    ) -> pb.UpdateMyPreferencesResponse:
        self._begin("UpdateMyPreferences", request, context)
        mask = set(request.update_mask)
        if not mask or mask - _MASKABLE:
            raise InvalidArgument("update_mask may name only: email, muted_types, sms, sms_number")
        if request.etag and request.etag.removeprefix("W/") != self.preferences.etag:
            raise FailedPrecondition("the preferences changed", code="precondition_failed")
        changed = pb.Preferences()
        changed.CopyFrom(self.preferences)
        for name in mask - {"muted_types"}:
            setattr(changed, name, getattr(request.preferences, name))
        if "muted_types" in mask:
            changed.muted_types[:] = sorted(set(request.preferences.muted_types))
        if changed.sms and not changed.sms_number:
            raise InvalidArgument("sms needs an sms_number")
        changed.etag = f'"{int(self.preferences.etag.strip(chr(34))) + 1}"'
        self.preferences = changed
        return pb.UpdateMyPreferencesResponse(preferences=changed)

    async def CreateWebhook(self, request: Any, context: Any) -> pb.CreateWebhookResponse:
        owner, _ = self._manager(self._begin("CreateWebhook", request, context))
        if not request.url.startswith("https://"):
            raise InvalidArgument("url must be https")
        if not request.events:
            raise InvalidArgument("events must name at least one event type, or '*'")
        webhook = self.add_webhook(url=request.url, events=sorted(request.events), owner=owner)
        return pb.CreateWebhookResponse(webhook=webhook, secret=WEBHOOK_SECRET)

    async def ListWebhooks(self, request: Any, context: Any) -> pb.ListWebhooksResponse:
        claims = self._begin("ListWebhooks", request, context)
        return pb.ListWebhooksResponse(
            webhooks=self._visible(claims), next_page_token=self.next_page_token
        )

    async def DeleteWebhook(self, request: Any, context: Any) -> pb.DeleteWebhookResponse:
        claims = self._begin("DeleteWebhook", request, context)
        del self.webhooks[self._webhook(request.id, claims).id]
        return pb.DeleteWebhookResponse()

    async def EnableWebhook(self, request: Any, context: Any) -> pb.EnableWebhookResponse:
        webhook = self._webhook(request.id, self._begin("EnableWebhook", request, context))
        if webhook.id in self.client_revoked:
            raise FailedPrecondition(
                "this webhook's API client was revoked", code="webhook_client_revoked"
            )
        webhook.status = pb.WEBHOOK_STATUS_ACTIVE
        webhook.ClearField("disable_time")
        return pb.EnableWebhookResponse(webhook=webhook)

    async def ListWebhookDeliveries(
        self, request: Any, context: Any
    ) -> pb.ListWebhookDeliveriesResponse:
        claims = self._begin("ListWebhookDeliveries", request, context)
        webhook = self._webhook(request.webhook_id, claims)
        return pb.ListWebhookDeliveriesResponse(
            deliveries=[d for d in self.deliveries if d.webhook_id == webhook.id],
            next_page_token=self.next_page_token,
        )

    async def ListParkedEvents(self, request: Any, context: Any) -> pb.ListParkedEventsResponse:
        call = record(self.calls, "ListParkedEvents", request, context)
        if call.metadata.get("authorization") != f"Bearer {OPERATOR_TOKEN}":
            raise Unauthenticated("the platform operator's token is required")
        return pb.ListParkedEventsResponse(events=self.parked, next_page_token=self.next_page_token)


@dataclass
class NotificationGateway:
    client: httpx.AsyncClient
    app: FastAPI
    identity: FakeIdentity
    notifications: FakeNotification
    #: notification's server, so a test can take it down.
    notification_server: Any

    def bearer(self, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.identity.mint(**claims)}"}

    def partner_bearer(self, scope: str = "webhooks:manage work_orders:read") -> dict[str, str]:
        """A partner client's token (client credentials: no session, no roles)."""
        return self.bearer(sub=PARTNER, sid=None, roles=[], scope=scope)


@asynccontextmanager
async def fake_notification_gateway(
    start_peer: Any, **overrides: Any
) -> AsyncIterator[NotificationGateway]:
    """The gateway in front of a fake identity (tokens) and a fake notification."""
    from gateway.main import create_app

    from .conftest import PEER_NAMES, serve, settings_for

    identity = FakeIdentity()
    notifications = FakeNotification(identity)
    identity_server = await start_peer(
        "identity",
        register=lambda s: identity_pb2_grpc.add_IdentityServiceServicer_to_server(identity, s),
    )
    notification_server = await start_peer(
        "notification",
        register=lambda s: notification_pb2_grpc.add_NotificationServiceServicer_to_server(
            notifications, s
        ),
    )
    addresses = dict.fromkeys(PEER_NAMES, identity_server.address)
    addresses["notification"] = notification_server.address
    app = create_app(settings_for(addresses, **overrides))
    async with serve(app) as http:
        yield NotificationGateway(http, app, identity, notifications, notification_server)
