"""Data-handling instructions, enforced here: a person sees no customer data until they
acknowledged the version in force (identity's real process publishes and records; this
service's copy is fed by its events on NATS). Partner systems are not asked; a new
version binds after its grace period; an acknowledgement counts from the next call."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import grpc
import pytest
from sqlalchemy import delete, select
from vault_testkit import TIMEOUT, Metadata, RunningVault, error_code, grant, new_place, reveal

from customer_vault.models import InstructionsAcknowledgement, InstructionsVersion
from customer_vault.records.instructions import InstructionsCopy
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault.identity.v1 import identity_events_pb2 as events_pb
from fieldvault.identity.v1 import identity_pb2
from fieldvault_devstack.identity_driver import IdentityDriver, Person, Tenant
from fieldvault_platform.auth import bearer_metadata
from fieldvault_platform.events import EVENT_TYPE_HEADER, ReceivedEvent

pytestmark = pytest.mark.integration

#: How long identity's event may take to reach this service's copy (outbox → NATS → consumer).
EVENT_SECONDS = 10.0
DOOR_CODE = "DC-90210-CANARY"
NOT_ACKNOWLEDGED = "instructions_not_acknowledged"


async def eventually(check: Callable[[], Awaitable[bool]]) -> bool:
    deadline = asyncio.get_running_loop().time() + EVENT_SECONDS
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


async def publish(
    vault: RunningVault, identity: IdentityDriver, tenant: Tenant, *, grace_days: int = 0
) -> int:
    """A new version, published by the tenant's admin; returns once this service knows it."""
    published = await identity.stub.PublishInstructions(
        identity_pb2.PublishInstructionsRequest(
            markdown="# Handling customer data\n\nNever write a door code down.",
            grace_days=grace_days,
        ),
        metadata=bearer_metadata(tenant.admin_identity_token),
        timeout=TIMEOUT,
    )
    version = int(published.instructions.version)

    async def known() -> bool:
        async with vault.database.unit_of_work() as session:
            row = await session.get(InstructionsVersion, (tenant.id, version))
            return row is not None

    assert await eventually(known), "the instructions_published event never arrived"
    return version


async def acknowledge(identity: IdentityDriver, person: Person, version: int) -> None:
    token = await identity.exchange(person.gateway_token, "identity")
    await identity.stub.AcknowledgeInstructions(
        identity_pb2.AcknowledgeInstructionsRequest(version=version),
        metadata=bearer_metadata(token),
        timeout=TIMEOUT,
    )


def problem_member(error: grpc.aio.AioRpcError, name: str) -> str | None:
    for key, value in error.trailing_metadata() or ():
        if key == f"fieldvault-problem-{name}":
            return str(value)
    return None


async def refusal(call: Awaitable[object]) -> tuple[str | None, str | None]:
    """The machine code and the version named, of a call that must be refused."""
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call
    error = refused.value
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED, error.details()
    return error_code(error), problem_member(error, "instructions_version")


async def technician_of(
    vault: RunningVault, identity: IdentityDriver, tenant: Tenant
) -> tuple[Person, Metadata]:
    person = await identity.new_person(tenant, roles=["technician"])
    return person, await vault.mint.user(tenant.id, roles=["technician"], user_id=person.id)


async def test_a_technician_reveals_only_after_acknowledging_and_the_refusal_is_audited(
    customer_vault: RunningVault, identity: IdentityDriver
) -> None:
    tenant = await identity.new_tenant()
    place = await new_place(customer_vault, tenant.id, door_code=DOOR_CODE)
    person, technician = await technician_of(customer_vault, identity, tenant)
    await grant(customer_vault, place, user_id=person.id)
    assert (await reveal(customer_vault, place.site.id, technician)).value == DOOR_CODE
    version = await publish(customer_vault, identity, tenant)

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await reveal(customer_vault, place.site.id, technician)
    error = refused.value
    assert (error.code(), error_code(error)) == (
        grpc.StatusCode.PERMISSION_DENIED,
        NOT_ACKNOWLEDGED,
    )
    assert problem_member(error, "instructions_version") == str(version)
    assert DOOR_CODE not in f"{error.details()} {error.trailing_metadata()}"

    await acknowledge(identity, person, version)
    # The very next call, whether or not the event has arrived yet.
    assert (await reveal(customer_vault, place.site.id, technician)).value == DOOR_CODE

    auditor = await customer_vault.mint.user(tenant.id, roles=["auditor"])
    trail = await customer_vault.stub.ListAuditEvents(
        pb.ListAuditEventsRequest(site_id=place.site.id), metadata=auditor, timeout=TIMEOUT
    )
    mine = [e for e in trail.events if e.actor_id == person.id and e.action == "secret.reveal"]
    assert sorted((e.outcome, e.reason) for e in mine) == [
        ("denied", NOT_ACKNOWLEDGED),
        ("success", ""),
        ("success", ""),
    ]


async def test_an_acknowledgement_counts_before_its_event_has_reached_this_service(
    customer_vault: RunningVault, identity: IdentityDriver
) -> None:
    tenant = await identity.new_tenant()
    place = await new_place(customer_vault, tenant.id, door_code=DOOR_CODE)
    person, technician = await technician_of(customer_vault, identity, tenant)
    await grant(customer_vault, place, user_id=person.id)
    version = await publish(customer_vault, identity, tenant)
    await acknowledge(identity, person, version)

    async def copied() -> bool:
        async with customer_vault.database.unit_of_work() as session:
            return (
                await session.get(InstructionsAcknowledgement, (tenant.id, person.id)) is not None
            )

    assert await eventually(copied), "the instructions_acknowledged event never arrived"
    # As if the event were still on its way: the copy knows nothing of the acknowledgement.
    async with customer_vault.database.unit_of_work() as session:
        await session.execute(
            delete(InstructionsAcknowledgement).where(
                InstructionsAcknowledgement.tenant_id == tenant.id
            )
        )

    assert (await reveal(customer_vault, place.site.id, technician)).value == DOOR_CODE
    async with customer_vault.database.unit_of_work() as session:
        learned = await session.get(InstructionsAcknowledgement, (tenant.id, person.id))
        assert learned is not None and learned.version == version


async def test_every_read_of_customer_data_waits_for_the_acknowledgement_but_partner_systems_do_not(
    customer_vault: RunningVault, identity: IdentityDriver
) -> None:
    tenant = await identity.new_tenant()
    place = await new_place(customer_vault, tenant.id)
    version = await publish(customer_vault, identity, tenant)
    stub, dispatcher = customer_vault.stub, place.dispatcher
    dpo = await customer_vault.mint.user(tenant.id, roles=["dpo"])
    calls = {
        "GetCustomer": stub.GetCustomer(
            pb.GetCustomerRequest(id=place.customer.id), metadata=dispatcher, timeout=TIMEOUT
        ),
        "ListCustomers": stub.ListCustomers(
            pb.ListCustomersRequest(), metadata=dispatcher, timeout=TIMEOUT
        ),
        "GetSite": stub.GetSite(
            pb.GetSiteRequest(id=place.site.id), metadata=dispatcher, timeout=TIMEOUT
        ),
        "ListSites": stub.ListSites(pb.ListSitesRequest(), metadata=dispatcher, timeout=TIMEOUT),
        "ListSecrets": stub.ListSecrets(
            pb.ListSecretsRequest(site_id=place.site.id), metadata=dispatcher, timeout=TIMEOUT
        ),
        "ListContracts": stub.ListContracts(
            pb.ListContractsRequest(customer_id=place.customer.id),
            metadata=dispatcher,
            timeout=TIMEOUT,
        ),
        "UpdateSite": stub.UpdateSite(
            pb.UpdateSiteRequest(id=place.site.id, name="Harbour Hall"),
            metadata=dispatcher,
            timeout=TIMEOUT,
        ),
        "ExportCustomer": stub.ExportCustomer(
            pb.ExportCustomerRequest(id=place.customer.id), metadata=dpo, timeout=TIMEOUT
        ),
    }
    refusals = {name: await refusal(call) for name, call in calls.items()}
    assert refusals == {name: (NOT_ACKNOWLEDGED, str(version)) for name in calls}

    partner = await customer_vault.mint.client(tenant.id, ["customers:read"])
    listed = await stub.ListCustomers(pb.ListCustomersRequest(), metadata=partner, timeout=TIMEOUT)
    assert [c.id for c in listed.customers] == [place.customer.id]


async def test_a_new_version_binds_after_its_grace_period(
    customer_vault: RunningVault, identity: IdentityDriver
) -> None:
    tenant = await identity.new_tenant()
    place = await new_place(customer_vault, tenant.id, door_code=DOOR_CODE)
    reader, reader_token = await technician_of(customer_vault, identity, tenant)
    newcomer, newcomer_token = await technician_of(customer_vault, identity, tenant)
    for person in (reader, newcomer):
        await grant(customer_vault, place, user_id=person.id)
    first = await publish(customer_vault, identity, tenant)
    await acknowledge(identity, reader, first)

    second = await publish(customer_vault, identity, tenant, grace_days=14)
    # In the grace period the first version still suffices; one who read none is
    # sent to the newest.
    assert (await reveal(customer_vault, place.site.id, reader_token)).value == DOOR_CODE
    assert await refusal(reveal(customer_vault, place.site.id, newcomer_token)) == (
        NOT_ACKNOWLEDGED,
        str(second),
    )
    await acknowledge(identity, newcomer, second)
    assert (await reveal(customer_vault, place.site.id, newcomer_token)).value == DOOR_CODE

    third = await publish(customer_vault, identity, tenant, grace_days=0)
    assert await refusal(reveal(customer_vault, place.site.id, reader_token)) == (
        NOT_ACKNOWLEDGED,
        str(third),
    )
    assert await refusal(reveal(customer_vault, place.site.id, newcomer_token)) == (
        NOT_ACKNOWLEDGED,
        str(third),
    )


async def test_the_copy_applies_each_event_once_and_never_goes_back_a_version(
    customer_vault: RunningVault,
) -> None:
    tenant_id = f"tenant-{uuid.uuid4().hex[:10]}"
    handler = InstructionsCopy()
    now = datetime.now(UTC).replace(microsecond=0)

    def received(
        message: events_pb.InstructionsPublished | events_pb.InstructionsAcknowledged,
    ) -> ReceivedEvent:
        return ReceivedEvent(
            event_id=message.event_id,
            subject=f"fieldvault.{tenant_id}.identity.v1.instructions",
            payload=message.SerializeToString(),
            headers={EVENT_TYPE_HEADER: message.DESCRIPTOR.full_name},
        )

    published = events_pb.InstructionsPublished(event_id="e1", tenant_id=tenant_id, version=2)
    published.effective_time.FromDatetime(now)
    newer = events_pb.InstructionsAcknowledged(
        event_id="e2", tenant_id=tenant_id, user_id="u1", version=2
    )
    older = events_pb.InstructionsAcknowledged(
        event_id="e3", tenant_id=tenant_id, user_id="u1", version=1
    )
    for message in (published, published, newer, older, newer):
        async with customer_vault.database.unit_of_work() as session:
            await handler(session, received(message))

    async with customer_vault.database.unit_of_work() as session:
        versions = (
            await session.scalars(
                select(InstructionsVersion).where(InstructionsVersion.tenant_id == tenant_id)
            )
        ).all()
        assert [(v.version, v.effective_from.replace(tzinfo=UTC)) for v in versions] == [(2, now)]
        acknowledgement = await session.get(InstructionsAcknowledgement, (tenant_id, "u1"))
        assert acknowledgement is not None and acknowledgement.version == 2
