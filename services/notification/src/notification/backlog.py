"""Delivery backlogs on the operator's gauges (see fieldvault_platform.backlog).

Labelled by state and channel only (``email``, ``sms``, ``webhook``): counts,
never whose message or which subscriber.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.metrics import NOTIFICATION_DELIVERIES, WEBHOOKS_DISABLED
from notification.models import MessageDelivery, Webhook, WebhookDelivery

#: The delivery states an operator watches; sent/delivered/skipped are history.
WATCHED_STATES = ("pending", "failed")
WEBHOOK_CHANNEL = "webhook"

WEBHOOKS_DISABLED.set(0)
for _state in WATCHED_STATES:
    NOTIFICATION_DELIVERIES.labels(_state, WEBHOOK_CHANNEL).set(0)


async def delivery_probe(session: AsyncSession) -> None:
    """Pending and failed deliveries by channel, and disabled webhook subscriptions."""
    messages = await session.execute(
        select(MessageDelivery.status, MessageDelivery.channel, func.count())
        .where(MessageDelivery.status.in_(WATCHED_STATES))
        .group_by(MessageDelivery.status, MessageDelivery.channel)
    )
    hooks = await session.execute(
        select(WebhookDelivery.status, func.count())
        .where(WebhookDelivery.status.in_(WATCHED_STATES))
        .group_by(WebhookDelivery.status)
    )
    counts: dict[tuple[str, str], int] = {}
    for status, channel, count in messages.all():
        counts[(str(status), str(channel))] = int(count)
    for status, count in hooks.all():
        counts[(str(status), WEBHOOK_CHANNEL)] = int(count)
    # Every series seen before goes back to 0 when its rows are gone.
    for labels in _known:
        NOTIFICATION_DELIVERIES.labels(*labels).set(counts.get(labels, 0))
    for labels, count in counts.items():
        NOTIFICATION_DELIVERIES.labels(*labels).set(count)
    _known.update(counts)
    disabled = await session.scalar(
        select(func.count()).select_from(Webhook).where(Webhook.status == "disabled")
    )
    WEBHOOKS_DISABLED.set(disabled or 0)


_known: set[tuple[str, str]] = {(state, WEBHOOK_CHANNEL) for state in WATCHED_STATES}
