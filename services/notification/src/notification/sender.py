"""Sends queued email and SMS: the address is looked up now, never stored.

An invitation's email gets its link from identity at this moment; the link
exists only in the message handed to the mail server. A person who is gone
(deactivated, unknown) or an invitation already used is skipped, not retried.
Failures are retried with backoff up to ``delivery_max_attempts``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from opentelemetry import trace
from opentelemetry.trace import SpanKind

from fieldvault_platform.db import Database
from fieldvault_platform.metrics import NOTIFICATIONS_SETTLED
from fieldvault_platform.telemetry import context_of
from notification.channels import Mailer, SmsGateway, email
from notification.content import SafeFacts, invitation_email, share_email, share_sms
from notification.identity_client import Directory
from notification.inbox import preferences_of
from notification.leases import backoff, claim_due
from notification.models import MessageDelivery
from notification.settings import Settings
from notification.share_channels import ShareChannels

log = logging.getLogger(__name__)
tracer = trace.get_tracer("notification.sender")

BATCH = 50


class Skip(Exception):
    """Nothing to send any more (recipient gone, invitation used)."""


class MessageSender:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        directory: Directory,
        mailer: Mailer,
        sms: SmsGateway | None,
        share_channels: ShareChannels | None = None,
    ) -> None:
        self._database = database
        self._share_channels = share_channels
        self._settings = settings
        self._directory = directory
        self._mailer = mailer
        self._sms = sms

    async def send_due(self) -> int:
        """One pass: try every due message once; returns how many were tried."""
        claimed = await claim_due(self._database, MessageDelivery, batch=BATCH)
        for delivery_id in claimed:
            async with self._database.unit_of_work() as session:
                delivery = await session.get(MessageDelivery, delivery_id)
                if delivery is None:
                    continue
                session.expunge(delivery)
            await self._attempt(delivery)
        return len(claimed)

    async def _attempt(self, delivery: MessageDelivery) -> None:
        traceparent = delivery.traceparent
        with tracer.start_as_current_span(
            f"send {delivery.channel}",
            context=context_of(traceparent),
            kind=SpanKind.CLIENT,
            attributes={
                "fieldvault.delivery_id": delivery.id,
                "messaging.message.id": delivery.event_id,
            },
        ):
            try:
                await self._send(delivery)
                outcome, error = "sent", ""
            except Skip as reason:
                outcome, error = "skipped", str(reason)
            except Exception as exc:
                # Only the type: a mail server's or gateway's answer may quote the message.
                outcome, error = "retry", type(exc).__name__
                log.warning(
                    "sending failed; will retry",
                    extra={
                        "delivery_id": delivery.id,
                        "channel": delivery.channel,
                        "error_type": error,
                    },
                )
        await self._record(delivery.id, outcome, error)

    async def _send(self, delivery: MessageDelivery) -> None:
        if delivery.kind == "share":
            await self._send_share(delivery)
            return
        person = await self._directory.person(delivery.tenant_id, delivery.user_id)
        if delivery.kind == "invitation":
            await self._send_invitation(delivery, person.email if person else "")
            return
        if person is None or not person.active:
            raise Skip("recipient_inactive")
        link = str(self._settings.app_base_url).rstrip("/") + delivery.link
        if delivery.channel == "email":
            body = f"{delivery.body}\n\n{link}\n"
            await self._mailer.send(email(self._settings, person.email, delivery.subject, body))
            return
        if self._sms is None:
            raise Skip("sms_unavailable")
        async with self._database.unit_of_work() as session:
            number = (
                await preferences_of(session, delivery.tenant_id, delivery.user_id)
            ).sms_number
        if not number:
            raise Skip("no_sms_number")
        await self._sms.send(number, f"{delivery.subject}. {link}")

    async def _send_invitation(self, delivery: MessageDelivery, address: str) -> None:
        if not address or not delivery.invitation_id:
            raise Skip("recipient_unknown")
        invitation = await self._directory.invitation_link(
            delivery.tenant_id, delivery.invitation_id
        )
        if invitation is None:
            raise Skip("invitation_closed")
        async with self._database.unit_of_work() as session:
            language = (
                await preferences_of(session, delivery.tenant_id, delivery.user_id)
            ).language
        subject, body = invitation_email(
            invitation.url, SafeFacts.of(expires=invitation.expires), language
        )
        await self._mailer.send(email(self._settings, address, subject, body))

    async def _send_share(self, delivery: MessageDelivery) -> None:
        """One channel of a secure share: the link by e-mail, the PIN by SMS, never both.

        The address and the secret come from customer-vault now and live only in
        the message handed over; then customer-vault is told to wipe them. A
        share already dead (opened, revoked, locked, expired) is skipped.
        """
        if self._share_channels is None or not delivery.share_id:
            raise Skip("shares_unavailable")
        if delivery.channel == "sms" and self._sms is None:
            raise Skip("sms_unavailable")
        found = await self._share_channels.fetch(
            delivery.tenant_id, delivery.share_id, delivery.channel
        )
        if found is None:
            raise Skip("share_closed")
        if delivery.channel == "email":
            url = f"{str(self._settings.app_base_url).rstrip('/')}/shared#token={found.secret}"
            subject, body = share_email(url, SafeFacts.of(expires=found.expires))
            await self._mailer.send(email(self._settings, found.address, subject, body))
        else:
            assert self._sms is not None
            await self._sms.send(found.address, share_sms(found.secret))
        await self._share_channels.confirm(delivery.tenant_id, delivery.share_id, delivery.channel)

    async def _record(self, delivery_id: str, outcome: str, error: str) -> None:
        now = datetime.now(UTC)
        async with self._database.unit_of_work() as session:
            delivery = await session.get(MessageDelivery, delivery_id)
            if delivery is None:
                return
            delivery.attempts += 1
            delivery.last_error = error[:200]
            if outcome == "sent":
                delivery.status, delivery.sent_at = "sent", now
                NOTIFICATIONS_SETTLED.labels(delivery.channel, "delivered").inc()
            elif outcome == "skipped":
                delivery.status = "skipped"
                NOTIFICATIONS_SETTLED.labels(delivery.channel, "skipped").inc()
            elif delivery.attempts >= self._settings.delivery_max_attempts:
                delivery.status = "failed"
                NOTIFICATIONS_SETTLED.labels(delivery.channel, "failed").inc()
                log.error(
                    "giving up on a message",
                    extra={"delivery_id": delivery.id, "channel": delivery.channel},
                )
            else:
                delivery.next_attempt_at = now + backoff(
                    delivery.attempts,
                    self._settings.delivery_retry_seconds,
                    self._settings.delivery_max_retry_seconds,
                )
