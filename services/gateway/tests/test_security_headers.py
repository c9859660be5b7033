"""Security headers on every answer, no-store on the API's, CORS only for named origins."""

from __future__ import annotations

from typing import Any

import pytest

from fieldvault_platform.settings import Environment
from gateway.main import create_app
from gateway.settings import GatewaySettings

from .conftest import NO_NATS, serve
from .fake_identity import fake_gateway

HSTS = "max-age=31536000; includeSubDomains"


def assert_hardened(response: Any) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/healthz", "/v1/missing", "/openapi.json", "/docs"])
async def test_every_answer_carries_the_security_headers(gateway: Any, path: str) -> None:
    async with gateway() as client:
        response = await client.get(path)

    assert_hardened(response)
    assert response.headers["strict-transport-security"] == HSTS


async def test_refusals_at_the_edge_carry_them_too(gateway: Any) -> None:
    async with gateway(rate_limit_client_per_minute=1) as client:
        await client.get("/v1/missing")
        refused = await client.get("/v1/missing")

    assert refused.status_code == 429
    assert_hardened(refused)
    assert refused.headers["cache-control"] == "no-store"


async def test_no_hsts_in_development() -> None:
    settings = GatewaySettings(
        environment=Environment.DEVELOPMENT, nats_url=NO_NATS, identity_addr="127.0.0.1:1"
    )
    async with serve(create_app(settings)) as client:
        response = await client.get("/healthz")

    assert_hardened(response)
    assert "strict-transport-security" not in response.headers


async def test_api_answers_are_never_stored_but_public_documents_may_be(start_peer: Any) -> None:
    async with fake_gateway(start_peer) as fake:
        me = await fake.client.get("/v1/me", headers=fake.bearer())
        missing = await fake.client.get("/v1/missing")
        document = await fake.client.get("/openapi.json")
        jwks = await fake.client.get("/.well-known/jwks.json")

    assert me.status_code == 200
    assert me.headers["cache-control"] == "no-store"
    assert missing.headers["cache-control"] == "no-store"
    assert "no-store" not in document.headers.get("cache-control", "")
    assert "no-store" not in jwks.headers.get("cache-control", "")
    # JSON is no document: it loads nothing and runs nothing.
    assert me.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


async def test_a_route_that_chose_its_cache_control_keeps_it(start_peer: Any) -> None:
    async with fake_gateway(start_peer) as fake:
        response = await fake.client.post(
            "/v1/auth/login",
            json={"tenant": "lifts", "email": "ada@example.com", "password": "right password here"},
        )

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}


async def test_cors_answers_an_allowed_origin(gateway: Any) -> None:
    async with gateway(cors_origins=["https://app.example"]) as client:
        preflight = await client.options(
            "/v1/customers", headers=PREFLIGHT | {"Origin": "https://app.example"}
        )
        simple = await client.get("/v1/missing", headers={"Origin": "https://app.example"})

    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-credentials" not in preflight.headers
    assert simple.headers["access-control-allow-origin"] == "https://app.example"


async def test_cors_ignores_any_other_origin(gateway: Any) -> None:
    async with gateway(cors_origins=["https://app.example"]) as client:
        preflight = await client.options(
            "/v1/customers", headers=PREFLIGHT | {"Origin": "https://evil.example"}
        )
        simple = await client.get("/v1/missing", headers={"Origin": "https://evil.example"})

    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in simple.headers


async def test_cors_is_off_by_default(gateway: Any) -> None:
    async with gateway() as client:
        simple = await client.get("/v1/missing", headers={"Origin": "https://app.example"})

    assert "access-control-allow-origin" not in simple.headers
