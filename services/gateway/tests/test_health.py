from __future__ import annotations

from typing import Any


async def test_healthz_answers_ok_even_when_every_peer_is_down(gateway: Any) -> None:
    async with gateway() as client:
        response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_when_all_four_peers_serve(gateway: Any, peers: Any) -> None:
    async with gateway({name: peer.address for name, peer in peers.items()}) as client:
        response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "dependencies": {
            "identity": "serving",
            "customer_vault": "serving",
            "work_order": "serving",
            "notification": "serving",
        },
    }


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


async def test_readyz_recovers_once_the_peer_serves_again(gateway: Any, peers: Any) -> None:
    await peers["notification"].set_serving(False)

    async with gateway({name: peer.address for name, peer in peers.items()}) as client:
        assert (await client.get("/readyz")).status_code == 503
        await peers["notification"].set_serving(True)
        assert (await client.get("/readyz")).status_code == 200
