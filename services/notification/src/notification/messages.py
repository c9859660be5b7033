"""Rows → protobuf messages."""

from __future__ import annotations

from fieldvault.notification.v1 import notification_pb2 as pb
from fieldvault_platform.etags import etag_of
from fieldvault_platform.events import ParkedEvent
from fieldvault_platform.timestamps import to_timestamp
from notification.models import InboxEntry, Preference, Webhook, WebhookDelivery

_WEBHOOK_STATUS = {
    "active": pb.WEBHOOK_STATUS_ACTIVE,
    "disabled": pb.WEBHOOK_STATUS_DISABLED,
    "revoked": pb.WEBHOOK_STATUS_DISABLED,  # its partner client is gone
}
_DELIVERY_STATUS = {
    "pending": pb.DELIVERY_STATUS_PENDING,
    "delivered": pb.DELIVERY_STATUS_DELIVERED,
    "failed": pb.DELIVERY_STATUS_FAILED,
}


def notification_message(entry: InboxEntry) -> pb.Notification:
    return pb.Notification(
        id=entry.id,
        type=entry.type,
        subject=entry.subject,
        body=entry.body,
        link=entry.link,
        work_order_id=entry.work_order_id or "",
        create_time=to_timestamp(entry.created_at),
        read_time=to_timestamp(entry.read_at),
    )


def preferences_message(preference: Preference) -> pb.Preferences:
    return pb.Preferences(
        email=preference.email,
        sms=preference.sms,
        sms_number=preference.sms_number,
        muted_types=list(preference.muted_types),
        language=preference.language,
        etag=etag_of(preference.version),
    )


def webhook_message(webhook: Webhook) -> pb.Webhook:
    return pb.Webhook(
        id=webhook.id,
        tenant_id=webhook.tenant_id,
        url=webhook.url,
        events=list(webhook.events),
        status=_WEBHOOK_STATUS.get(webhook.status, pb.WEBHOOK_STATUS_UNSPECIFIED),
        owner=webhook.owner,
        create_time=to_timestamp(webhook.created_at),
        disable_time=to_timestamp(webhook.disabled_at),
    )


def delivery_message(delivery: WebhookDelivery) -> pb.WebhookDelivery:
    pending = delivery.status == "pending"
    return pb.WebhookDelivery(
        id=delivery.id,
        webhook_id=delivery.webhook_id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        status=_DELIVERY_STATUS.get(delivery.status, pb.DELIVERY_STATUS_UNSPECIFIED),
        attempts=delivery.attempts,
        last_response_code=delivery.last_response_code,
        last_attempt_time=to_timestamp(delivery.last_attempt_at),
        next_attempt_time=to_timestamp(delivery.next_attempt_at) if pending else None,
        create_time=to_timestamp(delivery.created_at),
    )


def parked_message(parked: ParkedEvent) -> pb.ParkedEvent:
    return pb.ParkedEvent(
        consumer=parked.consumer,
        event_id=parked.event_id,
        subject=parked.subject,
        delivery_count=parked.delivery_count,
        error_type=parked.error_type,
        park_time=to_timestamp(parked.parked_at),
    )
