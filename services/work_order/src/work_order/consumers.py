"""What work-order hears: people and organisations that may no longer work, erased
customers and moved sites.

Each is a durable JetStream consumer (shared by every replica) whose handler
runs in the transaction that records the event as processed, so a redelivered
event changes nothing twice; one that keeps failing is retried and finally
parked. The changes themselves are in :mod:`work_order.returns`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault.customer_vault.v1 import customer_vault_events_pb2 as vault_pb
from fieldvault.identity.v1 import identity_events_pb2 as identity_pb
from fieldvault_platform.db import Database
from fieldvault_platform.events import ConsumerRunner, ReceivedEvent, stream_name
from fieldvault_platform.events.subjects import EVENT_VERSION, SUBJECT_PREFIX
from work_order import returns
from work_order.peer_clients import Directory
from work_order.settings import Settings

#: Every replica shares these consumers (durables), so each event is applied once.
SOURCES = ("identity", "customer_vault")


class Handlers:
    def __init__(self, directory: Directory, settings: Settings) -> None:
        self._directory = directory
        self._settings = settings

    async def user_deactivated(self, session: AsyncSession, event: ReceivedEvent) -> None:
        """A deactivated assignee's open jobs go back to the office."""
        deactivated = identity_pb.UserDeactivated.FromString(event.payload)
        await returns.return_jobs_of_user(
            session,
            tenant_id=deactivated.tenant_id,
            user_id=deactivated.user_id,
            reason="user_deactivated",
            now=datetime.now(UTC),
        )

    async def dpa_lapsed(self, session: AsyncSession, event: ReceivedEvent) -> None:
        """No DPA, no access: the organisation's open jobs go back to the office."""
        lapsed = identity_pb.OrganizationDpaLapsed.FromString(event.payload)
        await returns.return_jobs_of_organization(
            session,
            tenant_id=lapsed.tenant_id,
            organization_id=lapsed.organization_id,
            reason="dpa_inactive",
            now=datetime.now(UTC),
        )

    async def customer_erased(self, session: AsyncSession, event: ReceivedEvent) -> None:
        erased = vault_pb.CustomerErased.FromString(event.payload)
        await returns.anonymise_site_orders(
            session,
            tenant_id=erased.tenant_id,
            site_ids=list(erased.site_ids),
            now=datetime.now(UTC),
        )

    async def site_moved(self, session: AsyncSession, event: ReceivedEvent) -> None:
        moved = vault_pb.SiteAreaChanged.FromString(event.payload)
        await returns.move_site_orders(
            session,
            self._directory,
            self._settings,
            tenant_id=moved.tenant_id,
            site_id=moved.site_id,
            area_id=moved.area_id,
            now=datetime.now(UTC),
        )


def _subject(service: str, event: str) -> str:
    return f"{SUBJECT_PREFIX}.*.{service}.{EVENT_VERSION}.{event}"


def consumers(
    database: Database, jetstream: JetStreamContext, handlers: Handlers
) -> list[ConsumerRunner]:
    """One durable consumer per event it needs."""
    identity, vault = "identity", "customer_vault"
    wiring = [
        (identity, "user_deactivated", "work_order-deactivations", handlers.user_deactivated),
        (identity, "organization_dpa_lapsed", "work_order-dpa-lapses", handlers.dpa_lapsed),
        (vault, "customer_erased", "work_order-customer-erasures", handlers.customer_erased),
        (vault, "site_area_changed", "work_order-site-moves", handlers.site_moved),
    ]
    return [
        ConsumerRunner(
            database,
            jetstream,
            stream=stream_name(service),
            durable=durable,
            filter_subject=_subject(service, event),
            handler=handler,
        )
        for service, event, durable, handler in wiring
    ]
