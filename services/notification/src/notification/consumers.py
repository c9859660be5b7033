"""What notification hears: identity's invitations and revoked API clients,
work-order's lifecycle and the jobs it gives back to the office, the
customer-vault's alerts for auditors (break-glass, reveal rate, exports with
code values) and for dispatchers (rotation tasks; a physical key not returned),
and its own disabled webhooks.

Each is a durable JetStream consumer whose handler runs in the transaction
that records the event as processed: inbox entries, queued messages and
queued webhook deliveries commit together with it, so a redelivered event
tells nobody twice, and a failing event is retried and finally parked.
"""

from __future__ import annotations

from datetime import UTC, datetime

from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault.customer_vault.v1 import customer_vault_events_pb2 as vault_pb
from fieldvault.identity.v1 import identity_events_pb2 as identity_pb
from fieldvault.notification.v1 import notification_events_pb2 as notification_pb
from fieldvault.work_order.v1.work_order_events_pb2 import WorkOrderEvent, WorkOrderReturned
from fieldvault_platform.db import Database
from fieldvault_platform.events import ConsumerRunner, ReceivedEvent, stream_name
from fieldvault_platform.events.subjects import EVENT_VERSION, SUBJECT_PREFIX
from fieldvault_platform.telemetry import current_traceparent
from fieldvault_platform.timestamps import from_timestamp
from notification.content import ROTATION_REASONS, UNABLE_REASONS, SafeFacts
from notification.identity_client import Directory
from notification.inbox import queue_message, tell
from notification.webhooks.payloads import rotation_task_body, work_order_body
from notification.webhooks.subscriptions import (
    API_CLIENT_REVOKED,
    disable_for_revoked_client,
    queue_deliveries,
)

#: Work-order events the assignee hears about.
_TOLD = frozenset({"work_order.assigned", "work_order.scheduled", "work_order.cancelled"})
#: Work-order events the office hears about: the dispatchers of the job's area
#: and whoever filed it (the job given back, ``returned``, too).
_OFFICE_TOLD = frozenset({"work_order.started", "work_order.completed"})
#: The filer of a job filed by a partner system: no person to tell.
_CLIENT_PREFIX = "client:"


class Handlers:
    def __init__(self, directory: Directory, *, sms_available: bool) -> None:
        self._directory = directory
        self._sms_available = sms_available

    async def work_order(self, session: AsyncSession, event: ReceivedEvent) -> None:
        if event.event_type == WorkOrderReturned.DESCRIPTOR.full_name:
            return  # not a lifecycle event: the office hears of it (``returned``)
        order = WorkOrderEvent.FromString(event.payload)
        now = datetime.now(UTC)
        await queue_deliveries(
            session,
            tenant_id=order.tenant_id,
            event_id=order.event_id,
            event_type=order.type,
            body=work_order_body(order),
            traceparent=current_traceparent(),
            now=now,
        )
        if order.type in _TOLD:
            recipients = await self._work_order_recipients(order)
        elif order.type in _OFFICE_TOLD:
            office = await self._office(order.tenant_id, order.area_id, order.created_by)
            recipients = [person for person in office if person != order.actor_id]
        else:
            return
        facts = SafeFacts.of(
            work_order_id=order.work_order_id,
            site_id=order.site_id,
            status=order.status,
            priority=order.priority,
            scheduled_start=from_timestamp(order, "scheduled_start"),
            scheduled_end=from_timestamp(order, "scheduled_end"),
            reference=order.reference,
        )
        await tell(
            session,
            tenant_id=order.tenant_id,
            user_ids=recipients,
            event_id=order.event_id,
            event_type=order.type,
            facts=facts,
            work_order_id=order.work_order_id,
            sms_available=self._sms_available,
            now=now,
        )

    async def _office(self, tenant_id: str, area_id: str, created_by: str) -> list[str]:
        """The dispatchers of the area, and the person who filed the job (if a person did)."""
        dispatchers = [
            person.id
            async for person in self._directory.people(tenant_id, role="dispatcher")
            if area_id in person.area_ids
        ]
        if created_by and not created_by.startswith(_CLIENT_PREFIX):
            dispatchers.append(created_by)  # ``tell`` tells each person once
        return dispatchers

    async def _work_order_recipients(self, order: WorkOrderEvent) -> list[str]:
        """The assignee; for an organisation assigned as a whole, its managers."""
        if order.assignee_user_id:
            return [order.assignee_user_id]
        if order.assignee_organization_id and order.type == "work_order.assigned":
            return [
                person.id
                async for person in self._directory.people(
                    order.tenant_id,
                    role="subcontractor_manager",
                    organization_id=order.assignee_organization_id,
                )
            ]
        return []

    async def returned(self, session: AsyncSession, event: ReceivedEvent) -> None:
        """A job back in the office queue: the dispatchers of its area and its filer are told.

        The assignee's own report that the job cannot be done (``unable_<reason>``)
        comes this way too, and is told in its own words.
        """
        returned = WorkOrderReturned.FromString(event.payload)
        office = await self._office(returned.tenant_id, returned.area_id, returned.created_by)
        await tell(
            session,
            tenant_id=returned.tenant_id,
            user_ids=office,
            event_id=returned.event_id,
            event_type=(
                "work_order.unable" if returned.reason in UNABLE_REASONS else "work_order.returned"
            ),
            facts=SafeFacts.of(
                work_order_id=returned.work_order_id,
                site_id=returned.site_id,
                status=returned.status,
                reason=returned.reason,
                reference=returned.reference,
            ),
            work_order_id=returned.work_order_id,
            sms_available=self._sms_available,
            now=datetime.now(UTC),
        )

    async def key_overdue(self, session: AsyncSession, event: ReceivedEvent) -> None:
        """A physical key not back after its job: the dispatchers of the site's area are told
        (ids only: never the key's tag code, label, site name or address)."""
        if event.event_type != vault_pb.KeyOverdue.DESCRIPTOR.full_name:
            return
        overdue = vault_pb.KeyOverdue.FromString(event.payload)
        dispatchers = await self._office(overdue.tenant_id, overdue.area_id, created_by="")
        await tell(
            session,
            tenant_id=overdue.tenant_id,
            user_ids=dispatchers,
            event_id=overdue.event_id,
            event_type="key.overdue",
            facts=SafeFacts.of(
                key_id=overdue.key_id,
                site_id=overdue.site_id,
                user_id=overdue.user_id,
                work_order_id=overdue.work_order_id,
                due=from_timestamp(overdue, "due_time"),
            ),
            work_order_id=overdue.work_order_id,
            sms_available=self._sms_available,
            now=datetime.now(UTC),
        )

    async def identity(self, session: AsyncSession, event: ReceivedEvent) -> None:
        if event.event_type != identity_pb.UserInvited.DESCRIPTOR.full_name:
            return
        invited = identity_pb.UserInvited.FromString(event.payload)
        await queue_message(
            session,
            tenant_id=invited.tenant_id,
            user_id=invited.user_id,
            event_id=invited.event_id,
            channel="email",
            invitation_id=invited.invitation_id,
            now=datetime.now(UTC),
        )

    async def api_client_revoked(self, session: AsyncSession, event: ReceivedEvent) -> None:
        """A revoked partner client's webhooks stop at once (``webhook_disabled`` follows)."""
        if event.event_type != identity_pb.ApiClientRevoked.DESCRIPTOR.full_name:
            return
        revoked = identity_pb.ApiClientRevoked.FromString(event.payload)
        await disable_for_revoked_client(
            session,
            tenant_id=revoked.tenant_id,
            client_id=revoked.client_id,
            now=datetime.now(UTC),
        )

    async def security(self, session: AsyncSession, event: ReceivedEvent) -> None:
        """Break-glass reveals, reveal-rate alerts and exports with code values go to the
        tenant's auditors."""
        if event.event_type == vault_pb.BreakGlassReveal.DESCRIPTOR.full_name:
            reveal = vault_pb.BreakGlassReveal.FromString(event.payload)
            tenant_id, event_id = reveal.tenant_id, reveal.event_id
            event_type = "security.break_glass_reveal"
            facts = SafeFacts.of(
                user_id=reveal.user_id, site_id=reveal.site_id, secret_kind=reveal.kind
            )
        elif event.event_type == vault_pb.RevealRateExceeded.DESCRIPTOR.full_name:
            alert = vault_pb.RevealRateExceeded.FromString(event.payload)
            tenant_id, event_id = alert.tenant_id, alert.event_id
            event_type = "security.reveal_rate_exceeded"
            facts = SafeFacts.of(
                user_id=alert.user_id, limit=alert.limit, window_seconds=alert.window_seconds
            )
        elif event.event_type == vault_pb.SecretValuesExported.DESCRIPTOR.full_name:
            export = vault_pb.SecretValuesExported.FromString(event.payload)
            tenant_id, event_id = export.tenant_id, export.event_id
            event_type = "security.secret_values_exported"
            facts = SafeFacts.of(
                user_id=export.user_id,
                customer_id=export.customer_id,
                secret_kinds=list(export.kinds),
            )
        else:
            return
        auditors = [p.id async for p in self._directory.people(tenant_id, role="auditor")]
        await tell(
            session,
            tenant_id=tenant_id,
            user_ids=auditors,
            event_id=event_id,
            event_type=event_type,
            facts=facts,
            sms_available=self._sms_available,
            now=datetime.now(UTC),
        )

    async def shares(self, session: AsyncSession, event: ReceivedEvent) -> None:
        """A secure share: its link by e-mail and its PIN by SMS (fetched when sending);
        its opening or lock-out: the sender is told."""
        now = datetime.now(UTC)
        if event.event_type == vault_pb.ShareCreated.DESCRIPTOR.full_name:
            created = vault_pb.ShareCreated.FromString(event.payload)
            for channel in ("email", "sms"):
                await queue_message(
                    session,
                    tenant_id=created.tenant_id,
                    user_id=created.user_id,
                    event_id=created.event_id,
                    channel=channel,
                    share_id=created.share_id,
                    now=now,
                )
            return
        if event.event_type == vault_pb.ShareOpened.DESCRIPTOR.full_name:
            ended: vault_pb.ShareOpened | vault_pb.ShareLocked = vault_pb.ShareOpened.FromString(
                event.payload
            )
            event_type = "share.opened"
        elif event.event_type == vault_pb.ShareLocked.DESCRIPTOR.full_name:
            ended = vault_pb.ShareLocked.FromString(event.payload)
            event_type = "share.locked"
        else:
            return
        await tell(
            session,
            tenant_id=ended.tenant_id,
            user_ids=[ended.user_id],
            event_id=ended.event_id,
            event_type=event_type,
            facts=SafeFacts.of(share_id=ended.share_id),
            sms_available=self._sms_available,
            now=now,
        )

    async def rotation_task(self, session: AsyncSession, event: ReceivedEvent) -> None:
        """A code to change: the dispatchers of the site's area are told (inbox, e-mail) when
        it opens; partners get ``rotation_task.created`` and ``.closed`` webhooks."""
        now = datetime.now(UTC)
        if event.event_type == vault_pb.RotationTaskCreated.DESCRIPTOR.full_name:
            created = vault_pb.RotationTaskCreated.FromString(event.payload)
            await queue_deliveries(
                session,
                tenant_id=created.tenant_id,
                event_id=created.event_id,
                event_type="rotation_task.created",
                body=rotation_task_body(created),
                traceparent=current_traceparent(),
                now=now,
            )
            dispatchers = [
                person.id
                async for person in self._directory.people(created.tenant_id, role="dispatcher")
                if created.area_id in person.area_ids
            ]
            await tell(
                session,
                tenant_id=created.tenant_id,
                user_ids=dispatchers,
                event_id=created.event_id,
                event_type="rotation_task.created",
                facts=SafeFacts.of(
                    task_id=created.task_id,
                    site_id=created.site_id,
                    rotation_subject=created.subject,
                    # A reason this service does not know yet is told in general words.
                    rotation_reason=(
                        created.reason if created.reason in ROTATION_REASONS else "other"
                    ),
                    since=from_timestamp(created, "since"),
                ),
                sms_available=self._sms_available,
                now=now,
            )
        elif event.event_type == vault_pb.RotationTaskClosed.DESCRIPTOR.full_name:
            closed = vault_pb.RotationTaskClosed.FromString(event.payload)
            await queue_deliveries(
                session,
                tenant_id=closed.tenant_id,
                event_id=closed.event_id,
                event_type="rotation_task.closed",
                body=rotation_task_body(closed),
                traceparent=current_traceparent(),
                now=now,
            )

    async def own(self, session: AsyncSession, event: ReceivedEvent) -> None:
        """A disabled webhook: its tenant's admins are told."""
        if event.event_type != notification_pb.WebhookDisabled.DESCRIPTOR.full_name:
            return
        disabled = notification_pb.WebhookDisabled.FromString(event.payload)
        template = (
            "webhook.disabled_client_revoked"
            if disabled.reason == API_CLIENT_REVOKED
            else "webhook.disabled"
        )
        admins = [p.id async for p in self._directory.people(disabled.tenant_id, role="admin")]
        await tell(
            session,
            tenant_id=disabled.tenant_id,
            user_ids=admins,
            event_id=disabled.event_id,
            event_type=template,
            facts=SafeFacts.of(
                webhook_id=disabled.webhook_id,
                consecutive_failures=disabled.consecutive_failures,
            ),
            sms_available=self._sms_available,
            now=datetime.now(UTC),
        )


def _subject(service: str, event: str) -> str:
    return f"{SUBJECT_PREFIX}.*.{service}.{EVENT_VERSION}.{event}"


def consumers(
    database: Database, jetstream: JetStreamContext, handlers: Handlers, *, max_deliver: int
) -> list[ConsumerRunner]:
    """One durable consumer per stream and subject family it needs."""
    wiring = [
        ("identity", "user_invited", "notification-invitations", handlers.identity),
        (
            "identity",
            "api_client_revoked",
            "notification-api-client-revoked",
            handlers.api_client_revoked,
        ),
        ("work_order", ">", "notification-work-orders", handlers.work_order),
        ("work_order", "returned", "notification-work-order-returns", handlers.returned),
        ("customer_vault", "break_glass_reveal", "notification-break-glass", handlers.security),
        ("customer_vault", "reveal_rate_exceeded", "notification-reveal-rate", handlers.security),
        (
            "customer_vault",
            "secret_values_exported",
            "notification-secret-values-exported",
            handlers.security,
        ),
        ("customer_vault", "share_created", "notification-share-created", handlers.shares),
        ("customer_vault", "share_opened", "notification-share-opened", handlers.shares),
        ("customer_vault", "share_locked", "notification-share-locked", handlers.shares),
        ("customer_vault", "key_overdue", "notification-key-overdue", handlers.key_overdue),
        (
            "customer_vault",
            "rotation_task_created",
            "notification-rotation-tasks-created",
            handlers.rotation_task,
        ),
        (
            "customer_vault",
            "rotation_task_closed",
            "notification-rotation-tasks-closed",
            handlers.rotation_task,
        ),
        ("notification", "webhook_disabled", "notification-webhook-disabled", handlers.own),
    ]
    return [
        ConsumerRunner(
            database,
            jetstream,
            stream=stream_name(service),
            durable=durable,
            filter_subject=_subject(service, event),
            handler=handler,
            max_deliver=max_deliver,
        )
        for service, event, durable, handler in wiring
    ]
