"""``Idempotency-Key`` on creates, kept in a JetStream key-value bucket of a real
nats-server (the devstack fixture, never the developer's NATS on 4222)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from nats.js.kv import KeyValue

from fieldvault_devstack.nats import NatsServer
from gateway.idempotency import IN_FLIGHT, body_hash, entry_key, idempotent_create

from .fake_customer_vault import VaultGateway, fake_vault_gateway
from .fake_identity import OPERATOR_TOKEN, TENANT, USER, fake_gateway
from .fake_notification import WEBHOOK_SECRET, fake_notification_gateway

CUSTOMER = {"name": "Virtanen Oy", "email": "office@virtanen.example"}


async def connected(app: FastAPI) -> None:
    """Wait until the gateway's NATS connection (shared with the revocation feed) is up."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        client = getattr(app.state.edge_auth, "nats", None)
        if client is not None and client.is_connected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the gateway did not connect to NATS")


@pytest.fixture
def bucket() -> str:
    return f"idem_{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def fake(
    start_peer: Any, nats_server: NatsServer, bucket: str
) -> AsyncIterator[VaultGateway]:
    async with fake_vault_gateway(
        start_peer, nats_url=nats_server.url, idempotency_bucket=bucket
    ) as gateway:
        await connected(gateway.app)
        yield gateway


@pytest.fixture
async def kv(nats_server: NatsServer, bucket: str) -> AsyncIterator[Any]:
    """Opens the test's bucket (after the gateway created it) for inspection."""
    connection = await nats.connect(nats_server.url)

    async def open_bucket() -> KeyValue:
        return await connection.jetstream().key_value(bucket)

    try:
        yield open_bucket
    finally:
        await connection.close()


async def stored_values(open_bucket: Any) -> list[bytes]:
    store = await open_bucket()
    return [(await store.get(key)).value or b"" for key in await store.keys()]


def keyed(fake: VaultGateway, key: str, **claims: Any) -> dict[str, str]:
    return fake.bearer(**claims) | {"Idempotency-Key": key}


async def test_a_retried_create_answers_the_first_answer_and_creates_once(
    fake: VaultGateway,
) -> None:
    first = await fake.client.post("/v1/customers", json=CUSTOMER, headers=keyed(fake, "k-1"))
    # The same JSON value, spaced and ordered differently, is the same body.
    again = await fake.client.post(
        "/v1/customers",
        content=b'{ "email": "office@virtanen.example",  "name": "Virtanen Oy" }',
        headers=keyed(fake, "k-1") | {"Content-Type": "application/json"},
    )

    assert first.status_code == 201, first.text
    assert again.status_code == 201
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert len(fake.vault.requests("CreateCustomer")) == 1
    # Read again for the replay, not kept: with the caller's own exchanged token.
    [reread] = fake.vault.requests("GetCustomer")
    assert reread.id == first.json()["id"]


async def test_the_bucket_keeps_no_field_of_the_created_resource_only_its_id(
    fake: VaultGateway, kv: Any
) -> None:
    canary = {"name": "CANARY Virtanen", "email": "canary.virtanen@example.com"}
    created = await fake.client.post("/v1/customers", json=canary, headers=keyed(fake, "k-8"))

    assert created.status_code == 201, created.text
    [value] = await stored_values(kv)
    assert b"CANARY" not in value.upper() and b"canary" not in value
    entry = json.loads(value)
    assert entry.keys() == {"state", "body", "status", "id", "headers"}
    assert entry["id"] == created.json()["id"]
    assert entry["headers"] == {"etag": created.headers["etag"]}


async def test_a_replay_shows_the_resource_as_it_is_now(fake: VaultGateway) -> None:
    first = await fake.client.post("/v1/customers", json=CUSTOMER, headers=keyed(fake, "k-9"))
    renamed = await fake.client.patch(
        f"/v1/customers/{first.json()['id']}", json={"name": "Renamed Oy"}, headers=fake.bearer()
    )
    again = await fake.client.post("/v1/customers", json=CUSTOMER, headers=keyed(fake, "k-9"))

    assert renamed.status_code == 200, renamed.text
    assert again.status_code == 201
    assert again.json()["name"] == "Renamed Oy"
    assert again.headers["etag"] == renamed.headers["etag"] != first.headers["etag"]
    assert len(fake.vault.requests("CreateCustomer")) == 1


async def test_a_replay_after_the_customer_was_erased_is_410_with_nothing_personal(
    fake: VaultGateway,
) -> None:
    first = await fake.client.post("/v1/customers", json=CUSTOMER, headers=keyed(fake, "k-10"))
    fake.vault.erased.add(first.json()["id"])

    again = await fake.client.post("/v1/customers", json=CUSTOMER, headers=keyed(fake, "k-10"))

    assert again.status_code == 410
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["code"] == "erased"
    assert again.headers["idempotent-replayed"] == "true"
    assert CUSTOMER["name"] not in again.text and CUSTOMER["email"] not in again.text
    assert len(fake.vault.requests("CreateCustomer")) == 1


async def test_an_uploaded_contract_is_replayed_from_its_customers_list(
    fake: VaultGateway,
) -> None:
    customer = await fake.client.post("/v1/customers", json=CUSTOMER, headers=fake.bearer())
    path = f"/v1/customers/{customer.json()['id']}/contracts"
    # A retry sends the same bytes, multipart boundary included.
    upload = (
        b"--b0undary\r\n"
        b'Content-Disposition: form-data; name="file"; filename="contract.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n%PDF-1.4 signed\r\n--b0undary--\r\n"
    )
    headers = keyed(fake, "k-11") | {"Content-Type": "multipart/form-data; boundary=b0undary"}

    first = await fake.client.post(path, content=upload, headers=headers)
    again = await fake.client.post(path, content=upload, headers=headers)

    assert first.status_code == 201, first.text
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(fake.vault.requests("UploadContract")) == 1


def test_every_create_route_says_how_its_replay_reads_the_resource(fake: VaultGateway) -> None:
    creates = {
        context.path: idempotent_create(context.original_route)
        for context in iter_route_contexts(fake.app.routes)
        if isinstance(context.original_route, APIRoute)
        and context.original_route.status_code == 201
    }

    assert len(creates) == 14 and all(d is not None for d in creates.values()), creates
    # Only the creates whose answer holds a secret shown once (a key's tag code among
    # them) read nothing again; and a published instructions version, which has no
    # read of its own (a replay never publishes twice).
    shown_once = {path for path, d in creates.items() if d is not None and d.reread is None}
    assert shown_once == {
        "/v1/tenants",
        "/v1/api-clients",
        "/v1/webhooks",
        "/v1/sites/{site_id}/keys",
        "/v1/tenant/instructions",
    }


async def test_without_a_key_every_create_creates(fake: VaultGateway) -> None:
    for _ in range(2):
        response = await fake.client.post("/v1/customers", json=CUSTOMER, headers=fake.bearer())
        assert response.status_code == 201

    assert len(fake.vault.requests("CreateCustomer")) == 2


async def test_the_same_key_with_another_body_is_refused(fake: VaultGateway) -> None:
    first = await fake.client.post("/v1/customers", json=CUSTOMER, headers=keyed(fake, "k-2"))
    other = await fake.client.post(
        "/v1/customers", json=CUSTOMER | {"name": "Other Oy"}, headers=keyed(fake, "k-2")
    )

    assert first.status_code == 201
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["code"] == "idempotency_key_reused"
    assert len(fake.vault.requests("CreateCustomer")) == 1


async def test_keys_belong_to_their_caller(fake: VaultGateway) -> None:
    mine = await fake.client.post("/v1/customers", json=CUSTOMER, headers=keyed(fake, "k-3"))
    theirs = await fake.client.post(
        "/v1/customers", json=CUSTOMER, headers=keyed(fake, "k-3", sub="user-2")
    )

    assert mine.status_code == theirs.status_code == 201
    assert theirs.json()["id"] != mine.json()["id"]
    assert "idempotent-replayed" not in theirs.headers
    assert len(fake.vault.requests("CreateCustomer")) == 2


async def test_a_failed_create_is_not_kept_so_a_retry_runs_again(fake: VaultGateway) -> None:
    body = {"customer_id": "no-such", "area_id": "a-1", "name": "HQ", "address": "Street 1"}
    first = await fake.client.post("/v1/sites", json=body, headers=keyed(fake, "k-4"))
    again = await fake.client.post("/v1/sites", json=body, headers=keyed(fake, "k-4"))

    assert first.status_code == again.status_code == 404
    assert len(fake.vault.requests("CreateSite")) == 2


async def test_a_duplicate_while_the_first_is_in_flight_is_409(fake: VaultGateway, kv: Any) -> None:
    # The bucket exists once the gateway used it.
    await fake.client.post("/v1/customers", json=CUSTOMER, headers=keyed(fake, "warm-up"))
    store = await kv()
    name = entry_key(subject=USER, tenant=TENANT, method="POST", path="/v1/customers", key="k-5")
    marker = {"state": IN_FLIGHT, "body": body_hash(json.dumps(CUSTOMER).encode())}
    await store.put(name, json.dumps(marker | {"since": time.time()}).encode())

    busy = await fake.client.post("/v1/customers", json=CUSTOMER, headers=keyed(fake, "k-5"))

    assert busy.status_code == 409
    assert busy.json()["code"] == "idempotency_key_in_use"
    assert busy.headers["retry-after"]
    assert len(fake.vault.requests("CreateCustomer")) == 1  # the warm-up only

    # A request in flight for minutes died with its replica: a retry takes over.
    await store.put(name, json.dumps(marker | {"since": time.time() - 3600}).encode())
    retried = await fake.client.post("/v1/customers", json=CUSTOMER, headers=keyed(fake, "k-5"))

    assert retried.status_code == 201
    assert len(fake.vault.requests("CreateCustomer")) == 2


async def test_a_tenant_creation_is_not_replayed_and_its_invitation_url_never_stored(
    start_peer: Any, nats_server: NatsServer, bucket: str, kv: Any
) -> None:
    body = {
        "slug": "lifts",
        "name": "Lifts Oy",
        "admin_email": "ada@example.com",
        "admin_name": "Ada",
    }
    headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}", "Idempotency-Key": "t-1"}
    async with fake_gateway(
        start_peer, nats_url=nats_server.url, idempotency_bucket=bucket
    ) as gateway:
        await connected(gateway.app)
        first = await gateway.client.post("/v1/tenants", json=body, headers=headers)
        again = await gateway.client.post("/v1/tenants", json=body, headers=headers)
        other = await gateway.client.post(
            "/v1/tenants", json=body | {"slug": "doors"}, headers=headers
        )

    assert first.status_code == 201, first.text
    assert "CANARY-invitation" in first.text
    assert again.status_code == 409
    assert again.json()["code"] == "idempotency_key_reused"
    assert "shown only once" in again.json()["detail"]
    assert "CANARY-invitation" not in again.text
    assert other.status_code == 422
    assert len(gateway.identity.requests("CreateTenant")) == 1
    values = await stored_values(kv)
    assert len(values) == 1
    assert b"CANARY" not in values[0]
    assert OPERATOR_TOKEN.encode() not in values[0]
    assert json.loads(values[0]).keys() == {"state", "body"}


async def test_a_webhooks_signing_secret_is_never_stored(
    start_peer: Any, nats_server: NatsServer, bucket: str, kv: Any
) -> None:
    body = {"url": "https://partner.example/in", "events": ["*"]}
    async with fake_notification_gateway(
        start_peer, nats_url=nats_server.url, idempotency_bucket=bucket
    ) as gateway:
        await connected(gateway.app)
        headers = gateway.bearer() | {"Idempotency-Key": "w-1"}
        first = await gateway.client.post("/v1/webhooks", json=body, headers=headers)
        again = await gateway.client.post("/v1/webhooks", json=body, headers=headers)

    assert first.status_code == 201, first.text
    assert first.json()["secret"] == WEBHOOK_SECRET
    assert again.status_code == 409
    assert WEBHOOK_SECRET not in again.text
    assert len(gateway.notifications.requests("CreateWebhook")) == 1
    assert all(WEBHOOK_SECRET.encode() not in value for value in await stored_values(kv))


async def test_without_nats_a_keyed_create_is_503_and_an_unkeyed_one_is_served(
    start_peer: Any,
) -> None:
    # settings_for's default NATS URL has nobody listening.
    async with fake_vault_gateway(start_peer) as fake:
        keyed_response = await fake.client.post(
            "/v1/customers", json=CUSTOMER, headers=keyed(fake, "k-6")
        )
        plain = await fake.client.post("/v1/customers", json=CUSTOMER, headers=fake.bearer())

    assert keyed_response.status_code == 503
    assert keyed_response.json()["code"] == "unavailable"
    assert keyed_response.headers["retry-after"]
    assert plain.status_code == 201
    assert len(fake.vault.requests("CreateCustomer")) == 1


async def test_an_unusable_key_is_400(fake: VaultGateway) -> None:
    response = await fake.client.post(
        "/v1/customers", json=CUSTOMER, headers=keyed(fake, "x" * 256)
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert fake.vault.requests("CreateCustomer") == []


async def test_of_two_concurrent_duplicates_one_creates_and_the_other_is_409(
    fake: VaultGateway,
) -> None:
    fake.identity.exchange_delay = 0.5  # keeps the first one in flight
    headers = keyed(fake, "k-7")

    answers = await asyncio.gather(
        *(fake.client.post("/v1/customers", json=CUSTOMER, headers=headers) for _ in range(2))
    )

    assert sorted(r.status_code for r in answers) == [201, 409]
    assert len(fake.vault.requests("CreateCustomer")) == 1
    later = await fake.client.post("/v1/customers", json=CUSTOMER, headers=headers)
    assert later.status_code == 201
    assert later.headers["idempotent-replayed"] == "true"
