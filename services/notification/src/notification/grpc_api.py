"""gRPC servicer for fieldvault.notification.v1.NotificationService: proto ⇄ domain only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeAlias

import grpc

from fieldvault.notification.v1 import notification_pb2 as pb
from fieldvault.notification.v1 import notification_pb2_grpc
from fieldvault_platform.auth.operator import require_operator
from fieldvault_platform.auth.principal import Principal
from fieldvault_platform.events import list_parked_events
from fieldvault_platform.retention import report_tenant, tenant_report
from fieldvault_platform.timestamps import to_timestamp
from notification import inbox, preferences, retention
from notification.access import caller_of
from notification.components import Components
from notification.messages import (
    delivery_message,
    notification_message,
    parked_message,
    preferences_message,
    webhook_message,
)
from notification.webhooks import subscriptions

SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["NotificationService"].full_name

Context: TypeAlias = grpc.aio.ServicerContext


def _now() -> datetime:
    return datetime.now(UTC)


class NotificationServicer(notification_pb2_grpc.NotificationServiceServicer):
    def __init__(self, components: Components) -> None:
        self._c = components

    async def _principal(self, context: Context) -> Principal:
        return await self._c.callers.principal(context)

    async def ListMyNotifications(
        self, request: pb.ListMyNotificationsRequest, context: Context
    ) -> pb.ListMyNotificationsResponse:
        caller = caller_of(await self._principal(context))
        async with self._c.database.unit_of_work() as session:
            rows, token = await inbox.list_inbox(
                session,
                caller,
                requested_size=request.page_size,
                page_token=request.page_token,
                unread_only=request.unread_only,
            )
            return pb.ListMyNotificationsResponse(
                notifications=[notification_message(r) for r in rows], next_page_token=token
            )

    async def MarkNotificationRead(
        self, request: pb.MarkNotificationReadRequest, context: Context
    ) -> pb.MarkNotificationReadResponse:
        caller = caller_of(await self._principal(context))
        async with self._c.database.unit_of_work() as session:
            entry = await inbox.mark_read(session, caller, notification_id=request.id, now=_now())
            return pb.MarkNotificationReadResponse(notification=notification_message(entry))

    async def GetMyPreferences(
        self, request: pb.GetMyPreferencesRequest, context: Context
    ) -> pb.GetMyPreferencesResponse:
        caller = caller_of(await self._principal(context))
        async with self._c.database.unit_of_work() as session:
            current = await preferences.get(session, caller)
            return pb.GetMyPreferencesResponse(preferences=preferences_message(current))

    async def UpdateMyPreferences(
        self, request: pb.UpdateMyPreferencesRequest, context: Context
    ) -> pb.UpdateMyPreferencesResponse:
        caller = caller_of(await self._principal(context))
        wanted = request.preferences
        async with self._c.database.unit_of_work() as session:
            saved = await preferences.update(
                session,
                caller,
                mask=list(request.update_mask),
                change=preferences.Change(
                    email=wanted.email,
                    sms=wanted.sms,
                    sms_number=wanted.sms_number,
                    muted_types=list(wanted.muted_types),
                    language=wanted.language,
                ),
                etag=request.etag,
                sms_available=self._c.sms_available,
                now=_now(),
            )
            await session.flush()
            return pb.UpdateMyPreferencesResponse(preferences=preferences_message(saved))

    async def CreateWebhook(
        self, request: pb.CreateWebhookRequest, context: Context
    ) -> pb.CreateWebhookResponse:
        who = subscriptions.manager(await self._principal(context))
        async with self._c.database.unit_of_work() as session:
            webhook, secret = await subscriptions.create(
                session,
                who,
                url=request.url,
                events=list(request.events),
                box=self._c.box,
                allow_insecure=self._c.settings.insecure_webhook_urls_allowed,
                now=_now(),
            )
            return pb.CreateWebhookResponse(webhook=webhook_message(webhook), secret=secret)

    async def ListWebhooks(
        self, request: pb.ListWebhooksRequest, context: Context
    ) -> pb.ListWebhooksResponse:
        who = subscriptions.manager(await self._principal(context))
        async with self._c.database.unit_of_work() as session:
            rows, token = await subscriptions.list_webhooks(
                session, who, requested_size=request.page_size, page_token=request.page_token
            )
            return pb.ListWebhooksResponse(
                webhooks=[webhook_message(r) for r in rows], next_page_token=token
            )

    async def DeleteWebhook(
        self, request: pb.DeleteWebhookRequest, context: Context
    ) -> pb.DeleteWebhookResponse:
        who = subscriptions.manager(await self._principal(context))
        async with self._c.database.unit_of_work() as session:
            await subscriptions.delete(session, who, webhook_id=request.id)
        return pb.DeleteWebhookResponse()

    async def EnableWebhook(
        self, request: pb.EnableWebhookRequest, context: Context
    ) -> pb.EnableWebhookResponse:
        who = subscriptions.manager(await self._principal(context))
        async with self._c.database.unit_of_work() as session:
            webhook = await subscriptions.enable(
                session,
                who,
                webhook_id=request.id,
                allow_insecure=self._c.settings.insecure_webhook_urls_allowed,
            )
            return pb.EnableWebhookResponse(webhook=webhook_message(webhook))

    async def ListWebhookDeliveries(
        self, request: pb.ListWebhookDeliveriesRequest, context: Context
    ) -> pb.ListWebhookDeliveriesResponse:
        who = subscriptions.manager(await self._principal(context))
        async with self._c.database.unit_of_work() as session:
            rows, token = await subscriptions.list_deliveries(
                session,
                who,
                webhook_id=request.webhook_id,
                requested_size=request.page_size,
                page_token=request.page_token,
            )
            return pb.ListWebhookDeliveriesResponse(
                deliveries=[delivery_message(r) for r in rows], next_page_token=token
            )

    async def ListParkedEvents(
        self, request: pb.ListParkedEventsRequest, context: Context
    ) -> pb.ListParkedEventsResponse:
        require_operator(context, self._c.settings.operator_token_sha256)
        rows, token = await list_parked_events(
            self._c.database, limit=request.page_size, after=request.page_token
        )
        return pb.ListParkedEventsResponse(
            events=[parked_message(r) for r in rows], next_page_token=token
        )

    # --- retention -----------------------------------------------------------------

    async def GetRetentionReport(
        self, request: pb.GetRetentionReportRequest, context: Context
    ) -> pb.GetRetentionReportResponse:
        tenant_id = report_tenant(await self._c.callers.principal(context))
        async with self._c.database.unit_of_work() as session:
            reports = await tenant_report(
                session, tenant_id=tenant_id, categories=retention.CATEGORIES
            )
        response = pb.GetRetentionReportResponse()
        for report in reports:
            response.categories.add(
                category=report.category,
                purged=report.purged,
                retention_days=report.days,
                last_run_time=to_timestamp(report.last_run_at),
            )
        return response
