from __future__ import annotations

import uuid
from typing import Any

import pytest


async def test_a_sane_incoming_request_id_is_echoed(gateway: Any) -> None:
    async with gateway() as client:
        response = await client.get("/healthz", headers={"X-Request-Id": "mobile-1.2_abc"})

    assert response.headers["x-request-id"] == "mobile-1.2_abc"


async def test_a_request_id_is_generated_when_none_is_sent(gateway: Any) -> None:
    async with gateway() as client:
        first = await client.get("/healthz")
        second = await client.get("/healthz")

    assert uuid.UUID(first.headers["x-request-id"]).version == 4
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize(
    "incoming",
    ["x" * 129, "has space", "<script>alert(1)</script>", 'quote"d', "semi;colon", ""],
)
async def test_an_unsafe_incoming_request_id_is_replaced(gateway: Any, incoming: str) -> None:
    async with gateway() as client:
        response = await client.get("/v1/missing", headers={"X-Request-Id": incoming})

    echoed = response.headers["x-request-id"]
    assert echoed != incoming
    assert uuid.UUID(echoed).version == 4
    assert response.json()["request_id"] == echoed


async def test_longest_allowed_request_id_is_kept(gateway: Any) -> None:
    incoming = "a" * 128
    async with gateway() as client:
        response = await client.get("/healthz", headers={"X-Request-Id": incoming})

    assert response.headers["x-request-id"] == incoming


async def test_cors_is_off_unless_origins_are_configured(gateway: Any) -> None:
    preflight = {
        "Origin": "https://app.example",
        "Access-Control-Request-Method": "GET",
    }
    async with gateway() as client:
        closed = await client.options("/healthz", headers=preflight)
    async with gateway(cors_origins=["https://app.example"]) as client:
        opened = await client.options("/healthz", headers=preflight)
        simple = await client.get("/v1/missing", headers={"Origin": "https://app.example"})

    assert "access-control-allow-origin" not in closed.headers
    assert opened.headers["access-control-allow-origin"] == "https://app.example"
    assert simple.headers["access-control-allow-origin"] == "https://app.example"
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
