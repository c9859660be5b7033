"""Sends queued webhook deliveries: signed, retried with backoff, logged.

Each attempt signs the stored body afresh (a new timestamp) and carries the
same ``Fieldvault-Event-Id``, so a receiver deduplicates retries. A 2xx is
delivered; anything else — an error status, a redirect (never followed), a
timeout, a refused connection or a destination that now resolves into a
private network — is retried until ``webhook_max_attempts``. The request goes
to the very address the destination check approved (:mod:`.pinned`). A subscription
whose deliveries fail for good ``webhook_disable_after_failures`` times in a
row is disabled and ``webhook_disabled`` is published for its admins.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import httpx
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from fieldvault_platform.db import Database
from fieldvault_platform.errors import InvalidArgument
from fieldvault_platform.metrics import NOTIFICATIONS_SETTLED
from fieldvault_platform.telemetry import context_of
from notification.leases import backoff, claim_due
from notification.models import Webhook, WebhookDelivery
from notification.settings import Settings
from notification.webhooks import pinned
from notification.webhooks.secret_box import SecretBox
from notification.webhooks.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, signature
from notification.webhooks.subscriptions import DELIVERY_FAILURES, disable
from notification.webhooks.urls import Resolver, resolve_destination, system_resolver

log = logging.getLogger(__name__)
tracer = trace.get_tracer("notification.webhooks")

BATCH = 50
USER_AGENT = "fieldvault-webhooks/1"


class WebhookSender:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        box: SecretBox,
        client: httpx.AsyncClient,
        *,
        resolve: Resolver = system_resolver,
    ) -> None:
        """``client`` should come from :func:`pinned.pinned_client` (no kept connections)."""
        self._database = database
        self._settings = settings
        self._box = box
        self._client = client
        self._resolve = resolve

    async def deliver_due(self) -> int:
        """One pass: try every due delivery once; returns how many were tried."""
        claimed = await claim_due(self._database, WebhookDelivery, batch=BATCH)
        for delivery_id in claimed:
            await self._attempt(delivery_id)
        return len(claimed)

    async def _attempt(self, delivery_id: str) -> None:
        async with self._database.unit_of_work() as session:
            delivery = await session.get(WebhookDelivery, delivery_id)
            webhook = await session.get(Webhook, delivery.webhook_id) if delivery else None
            if delivery is None or webhook is None:
                return
            if webhook.status != "active":
                delivery.status = "failed"  # deleted or disabled meanwhile: nobody to send to
                return
            url, secret = webhook.url, self._box.open(webhook.id, webhook.secret_ct)
            body, event_id, traceparent = delivery.body, delivery.event_id, delivery.traceparent
        with tracer.start_as_current_span(
            "webhook deliver",
            context=context_of(traceparent),
            kind=SpanKind.CLIENT,
            attributes={"fieldvault.webhook_id": webhook.id, "messaging.message.id": event_id},
        ) as span:
            code = await self._post(url, secret, body, event_id)
            span.set_attribute("http.response.status_code", code)
        await self._record(delivery_id, code)

    async def _post(self, url: str, secret: str, body: bytes, event_id: str) -> int:
        """The receiver's status code; 0 when it could not be reached or was refused here.

        A refused destination and an unreachable receiver look the same (0) in
        the delivery log, and only the checked address is ever connected to, so
        a subscription learns no status code from inside the platform's network.
        """
        try:
            destination = await resolve_destination(
                url,
                allow_insecure=self._settings.insecure_webhook_urls_allowed,
                resolve=self._resolve,
            )
            response = await pinned.post(
                self._client,
                destination,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                    EVENT_ID_HEADER: event_id,
                    SIGNATURE_HEADER: signature(secret, int(time.time()), body),
                },
                timeout=self._settings.webhook_timeout_seconds,
            )
        except (httpx.HTTPError, InvalidArgument) as exc:
            log.info(
                "webhook receiver unreachable",
                extra={"event_id": event_id, "error_type": type(exc).__name__},
            )
            return 0
        return response.status_code

    async def _record(self, delivery_id: str, code: int) -> None:
        now = datetime.now(UTC)
        settings = self._settings
        async with self._database.unit_of_work() as session:
            delivery = await session.get(WebhookDelivery, delivery_id)
            if delivery is None:
                return
            webhook = await session.get(Webhook, delivery.webhook_id)
            delivery.attempts += 1
            delivery.last_response_code = code
            delivery.last_attempt_at = now
            if 200 <= code < 300:
                delivery.status = "delivered"
                NOTIFICATIONS_SETTLED.labels("webhook", "delivered").inc()
                if webhook is not None:
                    webhook.consecutive_failures = 0
                return
            if delivery.attempts < settings.webhook_max_attempts:
                delivery.next_attempt_at = now + backoff(
                    delivery.attempts,
                    settings.webhook_retry_seconds,
                    settings.webhook_max_retry_seconds,
                )
                return
            delivery.status = "failed"
            NOTIFICATIONS_SETTLED.labels("webhook", "failed").inc()
            if webhook is not None and webhook.status == "active":
                webhook.consecutive_failures += 1
                if webhook.consecutive_failures >= settings.webhook_disable_after_failures:
                    disable(session, webhook, reason=DELIVERY_FAILURES, now=now)
