"""How the gateway authenticates callers and speaks for them, against a stand-in identity
that signs real tokens (``fake_identity.py``): bearer parsing, local verification,
the exchange cache, logout at the edge, the client address."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from gateway.auth import EdgeAuth

from .fake_identity import USER, FakeGateway, fake_gateway


@pytest.fixture
async def fake(start_peer: Any) -> AsyncIterator[FakeGateway]:
    async with fake_gateway(start_peer) as gateway:
        yield gateway


def edge_auth(fake: FakeGateway) -> EdgeAuth:
    auth: EdgeAuth = fake.app.state.edge_auth
    return auth


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "Token abc"],
)
async def test_a_request_without_a_bearer_token_is_challenged(
    fake: FakeGateway, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await fake.client.get("/v1/me", headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unauthenticated"
    assert fake.identity.calls["ExchangeToken"] == []


async def test_a_valid_token_reaches_identity_only_as_its_exchanged_identity_token(
    fake: FakeGateway,
) -> None:
    token = fake.identity.mint()
    response = await fake.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200, response.text
    assert response.json()["id"] == USER
    (exchange,) = fake.identity.calls["ExchangeToken"]
    assert exchange.request.subject_token == token
    assert exchange.request.audience == "identity"
    (get_me,) = fake.identity.calls["GetMe"]
    forwarded = get_me.metadata["authorization"].removeprefix("Bearer ")
    assert forwarded != token
    claims = json.loads(base64.urlsafe_b64decode(forwarded.split(".")[1] + "=="))
    assert claims["aud"] == "identity"


@pytest.mark.parametrize(
    ("name", "claims", "reason"),
    [
        ("expired", {"iat": int(time.time()) - 400, "exp": int(time.time()) - 60}, "expired"),
        ("for another service", {"aud": "customer_vault"}, "not valid for this service"),
        ("from another issuer", {"iss": "someone-else"}, "token invalid"),
        ("without a tenant", {"tid": None}, "token invalid"),
    ],
)
async def test_a_token_the_gateway_must_not_accept_is_refused_locally(
    fake: FakeGateway, name: str, claims: dict[str, Any], reason: str
) -> None:
    token = fake.identity.mint(**claims)
    response = await fake.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401, name
    assert reason in response.json()["detail"]
    assert token not in response.text
    assert fake.identity.calls["ExchangeToken"] == [], "refused without asking identity"


async def test_forged_tokens_are_refused(fake: FakeGateway) -> None:
    genuine = fake.identity.mint()
    header, payload, _ = genuine.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    raised = base64.urlsafe_b64encode(json.dumps(claims | {"roles": ["dpo"]}).encode())
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"at+jwt"}')
    forged = {
        "signed by another key": fake.identity.mint(
            private_key=ed25519.Ed25519PrivateKey.generate()
        ),
        "payload changed": f"{header}.{raised.rstrip(b'=').decode()}.{genuine.split('.')[2]}",
        "alg none": f"{none_header.rstrip(b'=').decode()}.{payload}.",
        "not a JWT": "opaque-token",
    }
    for name, token in forged.items():
        response = await fake.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name
    assert fake.identity.calls["GetMe"] == []


async def test_a_busy_caller_costs_one_exchange_per_token_and_backend(fake: FakeGateway) -> None:
    fake.identity.exchange_delay = 0.1
    headers = {"Authorization": f"Bearer {fake.identity.mint()}"}

    responses = await asyncio.gather(
        *(fake.client.get("/v1/me", headers=headers) for _ in range(20))
    )
    assert [r.status_code for r in responses] == [200] * 20
    assert len(fake.identity.calls["ExchangeToken"]) == 1, "concurrent requests share one"

    for _ in range(5):
        assert (await fake.client.get("/v1/me", headers=headers)).status_code == 200
    assert len(fake.identity.calls["ExchangeToken"]) == 1, "later requests use the cache"

    other = {"Authorization": f"Bearer {fake.identity.mint()}"}
    assert (await fake.client.get("/v1/me", headers=other)).status_code == 200
    assert len(fake.identity.calls["ExchangeToken"]) == 2, "another token, another exchange"


async def test_an_exchanged_token_is_renewed_shortly_before_it_expires(fake: FakeGateway) -> None:
    clock = Clock()
    edge_auth(fake).clock = clock
    fake.identity.exchange_ttl = 120
    headers = {"Authorization": f"Bearer {fake.identity.mint()}"}

    await fake.client.get("/v1/me", headers=headers)
    clock.now += 89  # renewal is due 30 s before the 120 s are up
    await fake.client.get("/v1/me", headers=headers)
    assert len(fake.identity.calls["ExchangeToken"]) == 1
    clock.now += 2
    await fake.client.get("/v1/me", headers=headers)
    assert len(fake.identity.calls["ExchangeToken"]) == 2


async def test_the_exchange_cache_is_bounded_and_forgets_the_least_recent(
    fake: FakeGateway,
) -> None:
    edge_auth(fake).cache_size = 3
    tokens = [{"Authorization": f"Bearer {fake.identity.mint()}"} for _ in range(4)]
    for headers in tokens:
        assert (await fake.client.get("/v1/me", headers=headers)).status_code == 200
    assert len(edge_auth(fake)._cache) == 3

    await fake.client.get("/v1/me", headers=tokens[3])  # cached
    assert len(fake.identity.calls["ExchangeToken"]) == 4
    await fake.client.get("/v1/me", headers=tokens[0])  # evicted: exchanged again
    assert len(fake.identity.calls["ExchangeToken"]) == 5


async def test_a_refused_exchange_is_a_401_and_is_not_cached(fake: FakeGateway) -> None:
    fake.identity.refuse_exchanges = 1
    headers = {"Authorization": f"Bearer {fake.identity.mint()}"}

    refused = await fake.client.get("/v1/me", headers=headers)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert (await fake.client.get("/v1/me", headers=headers)).status_code == 200
    assert len(fake.identity.calls["ExchangeToken"]) == 2


async def test_after_logout_this_instance_refuses_the_session_at_once(fake: FakeGateway) -> None:
    session = fake.identity.mint(sid="session-out")
    sibling = fake.identity.mint(sid="session-out")  # e.g. the token before a refresh
    other = fake.identity.mint(sid="session-other")
    headers = {"Authorization": f"Bearer {session}"}

    assert (await fake.client.post("/v1/auth/logout", headers=headers)).status_code == 204
    assert len(fake.identity.calls["Logout"]) == 1

    # No NATS in this test: the refusal is the gateway's own, right away.
    for token in (session, sibling):
        response = await fake.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
    assert (
        await fake.client.get("/v1/me", headers={"Authorization": f"Bearer {other}"})
    ).status_code == 200


async def test_the_operator_token_is_forwarded_as_is_and_never_verified(
    fake: FakeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    from .fake_identity import OPERATOR_TOKEN

    body = {
        "slug": "lifts",
        "name": "Lifts Oy",
        "admin_email": "a@lifts.example",
        "admin_name": "A",
    }
    missing = await fake.client.post("/v1/tenants", json=body)
    assert missing.status_code == 401 and fake.identity.calls["CreateTenant"] == []

    wrong = await fake.client.post(
        "/v1/tenants", json=body, headers={"Authorization": "Bearer not-the-operator"}
    )
    assert wrong.status_code == 401

    created = await fake.client.post(
        "/v1/tenants", json=body, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    )
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    assert created.json()["admin_invitation_url"].endswith("#token=CANARY-invitation")
    assert fake.identity.calls["CreateTenant"][-1].metadata["authorization"] == (
        f"Bearer {OPERATOR_TOKEN}"
    )
    assert fake.identity.calls["ExchangeToken"] == []
    assert OPERATOR_TOKEN not in caplog.text


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "seen"),
    [
        # No trusted proxy: the socket peer, whatever the header claims.
        ([], "203.0.113.5", "198.51.100.7", "203.0.113.5"),
        # A trusted proxy: the nearest hop it was not itself.
        (["10.0.0.0/8"], "10.1.2.3", "198.51.100.7", "198.51.100.7"),
        (["10.0.0.0/8"], "10.1.2.3", "198.51.100.7, 10.0.0.9", "198.51.100.7"),
        # What the client wrote further left is not believed.
        (["10.0.0.0/8"], "10.1.2.3", "192.0.2.66, 198.51.100.7", "198.51.100.7"),
        # A peer that is not a trusted proxy cannot set it.
        (["10.0.0.0/8"], "203.0.113.5", "198.51.100.7", "203.0.113.5"),
        # Garbage in the header: the proxy itself.
        (["10.0.0.0/8"], "10.1.2.3", "not-an-ip", "10.1.2.3"),
        # Only trusted hops: the farthest one is where the request came from.
        (["10.1.2.3", "2001:db8::/32"], "2001:db8::1", "2001:db8::2, 10.1.2.3", "2001:db8::2"),
    ],
)
async def test_the_login_source_address_believes_only_trusted_proxies(
    start_peer: Any, trusted: list[str], peer: str, forwarded: str, seen: str
) -> None:
    async with fake_gateway(start_peer, client=(peer, 5555), trusted_proxies=trusted) as fake:
        await fake.client.post(
            "/v1/auth/login",
            json={"tenant": "lifts", "email": "a@lifts.example", "password": "wrong password!"},
            headers={"X-Forwarded-For": forwarded},
        )
    (login,) = fake.identity.requests("Login")
    assert login.source_address == seen
