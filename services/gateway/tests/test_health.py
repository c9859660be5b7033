from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from fieldvault_devstack.nats import NatsServer


async def until_ready(client: httpx.AsyncClient, timeout: float = 10.0) -> httpx.Response:
    """``/readyz`` once it says ready (the revocation feed connects in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get("/readyz")
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.05)


async def test_healthz_answers_ok_even_when_every_peer_is_down(gateway: Any) -> None:
    async with gateway() as client:
        response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_when_all_four_peers_serve_and_revocations_arrive(
    gateway: Any, peers: Any, nats_server: NatsServer
) -> None:
    addresses = {name: peer.address for name, peer in peers.items()}
    async with gateway(addresses, nats_url=nats_server.url) as client:
        response = await until_ready(client)

    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "dependencies": {
            "identity": "serving",
            "customer_vault": "serving",
            "work_order": "serving",
            "notification": "serving",
            "revocations": "serving",
        },
    }


async def test_readyz_is_not_ready_while_revocations_cannot_arrive(
    gateway: Any, peers: Any
) -> None:
    # Without NATS a logged-out user's token could pass here until it expires.
    async with gateway({name: peer.address for name, peer in peers.items()}) as client:
        response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["dependencies"]["revocations"] == "unreachable"
    assert response.json()["dependencies"]["identity"] == "serving"


async def test_readyz_names_the_peer_that_reports_not_serving(gateway: Any, peers: Any) -> None:
    await peers["customer_vault"].set_serving(False)

    async with gateway({name: peer.address for name, peer in peers.items()}) as client:
        response = await client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["dependencies"] == {
        "identity": "serving",
        "customer_vault": "not_serving",
        "work_order": "serving",
        "notification": "serving",
        "revocations": "unreachable",
    }


async def test_readyz_names_the_peer_whose_port_is_closed_without_revealing_addresses(
    gateway: Any, peers: Any, closed_address: Any
) -> None:
    addresses = {name: peer.address for name, peer in peers.items()}
    addresses["work_order"] = closed_address()

    async with gateway(addresses) as client:
        response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["dependencies"]["work_order"] == "unreachable"
    assert response.json()["dependencies"]["identity"] == "serving"
    for address in addresses.values():
        assert address.split(":")[1] not in response.text
    assert "127.0.0.1" not in response.text


async def test_readyz_recovers_once_the_peer_serves_again(
    gateway: Any, peers: Any, nats_server: NatsServer
) -> None:
    addresses = {name: peer.address for name, peer in peers.items()}
    async with gateway(addresses, nats_url=nats_server.url) as client:
        assert (await until_ready(client)).status_code == 200
        await peers["notification"].set_serving(False)
        assert (await client.get("/readyz")).status_code == 503
        await peers["notification"].set_serving(True)
        assert (await client.get("/readyz")).status_code == 200
