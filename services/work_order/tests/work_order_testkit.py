"""A service company in identity, a site in customer-vault, and the people's tokens."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import grpc
from work_order_fixtures import Stack, VaultOnly

from fieldvault.customer_vault.v1 import customer_vault_pb2 as cv
from fieldvault.work_order.v1 import work_order_pb2 as pb
from fieldvault_devstack.identity_driver import IdentityDriver, Person, Tenant
from fieldvault_platform.auth import bearer_metadata

TIMEOUT = 15
DOOR_CODE = "8642"
Metadata = tuple[tuple[str, str], ...]
T = TypeVar("T")


@dataclass
class Member:
    """A signed-in person with tokens for work-order and customer-vault."""

    person: Person
    work_order: Metadata
    customer_vault: Metadata

    @property
    def id(self) -> str:
        return self.person.id


async def member(
    identity: IdentityDriver,
    tenant: Tenant,
    *,
    roles: Sequence[str],
    area_ids: Sequence[str] = (),
    organization_id: str = "",
) -> Member:
    person = await identity.new_person(
        tenant, roles=roles, area_ids=area_ids, organization_id=organization_id
    )
    work_order = await identity.exchange(person.gateway_token, "work_order")
    customer_vault = await identity.exchange(person.gateway_token, "customer_vault")
    return Member(
        person, tuple(bearer_metadata(work_order)), tuple(bearer_metadata(customer_vault))
    )


@dataclass
class Company:
    tenant: Tenant
    area: str
    other_area: str
    dispatcher: Member
    technician: Member
    site_id: str


async def company(stack: Stack) -> Company:
    identity = stack.identity
    tenant = await identity.new_tenant()
    area = await identity.new_area(tenant, f"North {uuid.uuid4().hex[:4]}")
    other_area = await identity.new_area(tenant, f"South {uuid.uuid4().hex[:4]}")
    dispatcher, technician = await asyncio.gather(
        member(identity, tenant, roles=["dispatcher"], area_ids=[area]),
        member(identity, tenant, roles=["technician"], area_ids=[area]),
    )
    site_id = await new_site(stack, dispatcher, area)
    return Company(tenant, area, other_area, dispatcher, technician, site_id)


async def new_site(stack: Stack | VaultOnly, dispatcher: Member, area: str) -> str:
    customer = await stack.customer_vault.CreateCustomer(
        cv.CreateCustomerRequest(area_id=area, name="Mrs Hudson"),
        metadata=dispatcher.customer_vault,
        timeout=TIMEOUT,
    )
    site = await stack.customer_vault.CreateSite(
        cv.CreateSiteRequest(
            customer_id=customer.customer.id, area_id=area, name="221B", address="Baker Street"
        ),
        metadata=dispatcher.customer_vault,
        timeout=TIMEOUT,
    )
    await stack.customer_vault.PutSecret(
        cv.PutSecretRequest(site_id=site.site.id, kind=cv.SECRET_KIND_DOOR_CODE, value=DOOR_CODE),
        metadata=dispatcher.customer_vault,
        timeout=TIMEOUT,
    )
    site_id: str = site.site.id
    return site_id


def stamp(moment: datetime) -> object:
    from google.protobuf.timestamp_pb2 import Timestamp

    value = Timestamp()
    value.FromDatetime(moment)
    return value


async def new_work_order(
    stack: Stack, c: Company, *, scheduled: bool = True, starts_in: timedelta = timedelta(0)
) -> pb.WorkOrder:
    """A high-priority job at the company's site, two hours long from ``starts_in`` from now."""
    start = datetime.now(UTC) + starts_in
    request = pb.CreateWorkOrderRequest(
        site_id=c.site_id, title="Lift stuck on 3rd floor", priority=pb.PRIORITY_HIGH
    )
    if scheduled:
        request.scheduled_start.CopyFrom(stamp(start))  # type: ignore[arg-type]
        request.scheduled_end.CopyFrom(stamp(start + timedelta(hours=2)))  # type: ignore[arg-type]
    response = await stack.work_order.CreateWorkOrder(
        request, metadata=c.dispatcher.work_order, timeout=TIMEOUT
    )
    order: pb.WorkOrder = response.work_order
    return order


async def reveal(stack: Stack, site_id: str, who: Member) -> str:
    """The door code, or the refusal's error code."""
    try:
        response = await stack.customer_vault.RevealSecret(
            cv.RevealSecretRequest(site_id=site_id, kind=cv.SECRET_KIND_DOOR_CODE),
            metadata=who.customer_vault,
            timeout=TIMEOUT,
        )
    except grpc.aio.AioRpcError as exc:
        return error_code(exc) or exc.code().name
    value: str = response.value
    return value


def error_code(error: grpc.aio.AioRpcError) -> str | None:
    for key, value in error.trailing_metadata() or ():
        if key == "fieldvault-error-code":
            return str(value)
    return None


async def eventually(
    check: Callable[[], Awaitable[T]], expected: T, *, within: float = 5.0
) -> tuple[T, float]:
    """Polls ``check`` until it returns ``expected``; returns the last value and the time."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while True:
        value = await check()
        if value == expected or loop.time() - started > within:
            return value, loop.time() - started
        await asyncio.sleep(0.05)
