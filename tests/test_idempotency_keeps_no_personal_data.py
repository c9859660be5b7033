"""``Idempotency-Key`` over the running stack: replays read the resource again as the
caller, and the gateway's JetStream key-value bucket never holds a field of a customer,
site, user or work order — not even for the 24 h an answer may be replayed, and not
after the customer was erased.

Every service runs as its own process (real nats-server, OpenBao, identity,
customer_vault, work_order, notification and the gateway; SQLite, or PostgreSQL when
``FIELDVAULT_TEST_DATABASE_URL`` names a server); the bucket is read straight from
NATS, every message its stream still holds.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import nats
import pytest
from nats.js.errors import NotFoundError

from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_devstack.identity_driver import IdentityDriver
from fieldvault_devstack.population import bearer, identity_process
from fieldvault_devstack.shared_stack import SharedStack
from fieldvault_devstack.stack import LocalStack
from fieldvault_platform.grpc_client import open_channel

pytestmark = pytest.mark.stack

#: The gateway's bucket (``FIELDVAULT_GATEWAY_IDEMPOTENCY_BUCKET``'s default).
BUCKET = "gateway_idempotency"
CANARY = "CANARY-IDEM"
CUSTOMER = {
    "name": f"{CANARY} Edna Virtanen",
    "email": "canary-idem.edna@example.net",
    "phone": "+358 40 555 0199",
    "address": f"{CANARY} Harbour Road 7",
    "notes": f"{CANARY} gate code is in the secrets",
}
#: What must never be found in the bucket, in any case.
PERSONAL = [CANARY, CUSTOMER["email"], CUSTOMER["phone"], "canary-idem.person@"]


@pytest.fixture(scope="module")
def platform(shared_stack: SharedStack) -> LocalStack:
    return shared_stack.stack


@pytest.fixture
async def http(platform: LocalStack) -> AsyncIterator[httpx.AsyncClient]:
    assert platform.endpoints is not None
    async with httpx.AsyncClient(base_url=platform.endpoints.gateway_url, timeout=30) as client:
        yield client


async def everything_in_the_bucket(stack: LocalStack) -> bytes:
    """Every message the bucket's stream holds (values, markers, deletions), as bytes."""
    connection = await nats.connect(stack.nats.url)
    try:
        js = connection.jetstream()
        stream = f"KV_{BUCKET}"
        state = (await js.stream_info(stream)).state
        chunks: list[bytes] = []
        for sequence in range(state.first_seq, state.last_seq + 1):
            with contextlib.suppress(NotFoundError):
                message = await js.get_msg(stream, sequence)
                chunks.append(message.data or b"")
        return b"\n".join(chunks)
    finally:
        await connection.close()


def holds_nothing_personal(data: bytes) -> bool:
    lowered = data.lower()
    return not any(value.lower().encode() in lowered for value in PERSONAL)


async def test_replays_read_again_and_the_bucket_never_holds_personal_data(
    platform: LocalStack, http: httpx.AsyncClient
) -> None:
    process = identity_process(platform)
    async with open_channel(process.addr) as channel:
        people = IdentityDriver(process, identity_pb2_grpc.IdentityServiceStub(channel))
        tenant = await people.new_tenant()
        area = await people.new_area(tenant, "North")
        # One person in the three roles, to keep the sign-ups (and the test) short.
        office = await people.new_person(
            tenant, roles=["admin", "dispatcher", "dpo"], area_ids=[area]
        )
    admin = dispatcher = dpo = office

    async def create(path: str, body: dict[str, Any], token: str, key: str) -> httpx.Response:
        headers = bearer(token) | {"Idempotency-Key": key}
        return await http.post(path, json=body, headers=headers)

    run = uuid.uuid4().hex[:8]
    creates: dict[str, tuple[str, dict[str, Any], str]] = {}
    creates["customer"] = ("/v1/customers", CUSTOMER | {"area_id": area}, dispatcher.gateway_token)
    first = {"customer": await create(*creates["customer"], f"customer-{run}")}
    assert first["customer"].status_code == 201, first["customer"].text
    customer_id = first["customer"].json()["id"]
    creates["site"] = (
        "/v1/sites",
        {
            "customer_id": customer_id,
            "area_id": area,
            "name": f"{CANARY} Harbour depot",
            "address": f"{CANARY} Dock Street 3",
        },
        dispatcher.gateway_token,
    )
    first["site"] = await create(*creates["site"], f"site-{run}")
    assert first["site"].status_code == 201, first["site"].text
    creates["work_order"] = (
        "/v1/work-orders",
        {
            "site_id": first["site"].json()["id"],
            "title": f"{CANARY} lift stuck",
            "description": f"{CANARY} ring Edna first",
        },
        dispatcher.gateway_token,
    )
    creates["user"] = (
        "/v1/users",
        {
            "email": f"canary-idem.person@{tenant.slug}.example",
            "name": f"{CANARY} Person",
            "roles": ["technician"],
            "area_ids": [area],
        },
        admin.gateway_token,
    )
    for name in ("work_order", "user"):
        first[name] = await create(*creates[name], f"{name}-{run}")
        assert first[name].status_code == 201, first[name].text

    # Same key, same body: the same resource, read again; nothing created twice.
    for name, (path, body, token) in creates.items():
        again = await create(path, body, token, f"{name}-{run}")
        assert again.status_code == 201, (name, again.text)
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json()["id"] == first[name].json()["id"]
        assert again.headers["etag"] == first[name].headers["etag"]
    listed = await http.get("/v1/customers", headers=bearer(dispatcher.gateway_token))
    assert [c["id"] for c in listed.json()["items"]] == [customer_id]
    other = await create(
        "/v1/customers",
        CUSTOMER | {"name": "Someone else"},
        dispatcher.gateway_token,
        f"customer-{run}",
    )
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"

    # The customer is erased: a replay of its create answers nothing personal.
    erased = await http.post(
        f"/v1/customers/{customer_id}/erase",
        json={"reason": "data subject's request"},
        headers=bearer(dpo.gateway_token),
    )
    assert erased.status_code == 200, erased.text
    replay = await create(*creates["customer"], f"customer-{run}")
    assert replay.status_code == 410, replay.text
    assert replay.json()["code"] == "erased"
    assert holds_nothing_personal(replay.content)
    site_replay = await create(*creates["site"], f"site-{run}")
    assert holds_nothing_personal(site_replay.content), site_replay.text

    # Secret-bearing creates keep being not repeated, and their secret is not kept.
    api_client = ("/v1/api-clients", {"name": "ERP", "scopes": ["work_orders:read"]})
    shown = await create(*api_client, admin.gateway_token, f"client-{run}")
    assert shown.status_code == 201, shown.text
    not_again = await create(*api_client, admin.gateway_token, f"client-{run}")
    assert not_again.status_code == 409 and not_again.json()["code"] == "idempotency_key_reused"

    stored = await everything_in_the_bucket(platform)
    assert stored, "the bucket was read"
    assert holds_nothing_personal(stored)
    assert shown.json()["client_secret"].encode() not in stored
    for response in first.values():
        # Nothing of any answer but the id (and the ETag header's value) is kept.
        for field, value in response.json().items():
            kept = field in ("id", "etag") or field.endswith("_id")  # ids: of some entry
            if isinstance(value, str) and len(value) > 3 and not kept:
                assert value.encode() not in stored, field
