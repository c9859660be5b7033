"""A request's bearer token is verified once, not once per layer that needs the caller.

The edge middlewares (rate limits, idempotency) verify the caller before
routing; the route's ``current_caller`` reuses that result for the same token
instead of checking the Ed25519 signature and parsing the claims a second time
(bench/README.md, end to end). Revocation still holds: the one verification
consults the deny list on every request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from fieldvault_platform.auth import TokenVerifier
from gateway.auth import EdgeAuth, remember_verified, verified_at_edge

from .fake_identity import FakeGateway, fake_gateway


@pytest.fixture
async def fake(start_peer: Any) -> AsyncIterator[FakeGateway]:
    async with fake_gateway(start_peer) as gateway:
        yield gateway


class CountingVerifier(TokenVerifier):
    calls = 0

    async def verify(self, token: str) -> Any:
        CountingVerifier.calls += 1
        return await super().verify(token)


async def test_a_request_verifies_its_token_once(fake: FakeGateway) -> None:
    auth: EdgeAuth = fake.app.state.edge_auth
    auth.verifier.__class__ = CountingVerifier
    CountingVerifier.calls = 0
    headers = fake.bearer()

    for _ in range(3):
        response = await fake.client.get("/v1/me", headers=headers)
        assert response.status_code == 200, response.text

    assert CountingVerifier.calls == 3


async def test_a_revoked_session_is_still_refused_on_the_next_request(fake: FakeGateway) -> None:
    auth: EdgeAuth = fake.app.state.edge_auth
    headers = fake.bearer()
    assert (await fake.client.get("/v1/me", headers=headers)).status_code == 200

    principal = await auth.verifier.verify(headers["Authorization"].split(" ", 1)[1])
    auth.forget(principal)

    refused = await fake.client.get("/v1/me", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["code"] == "unauthenticated"


def test_only_a_success_for_the_very_same_token_is_reused() -> None:
    scope: dict[str, Any] = {}
    remember_verified(scope, "token-a", None)
    assert verified_at_edge(scope, "token-a") is None

    principal: Any = object()
    remember_verified(scope, "token-a", principal)
    assert verified_at_edge(scope, "token-a") is principal
    assert verified_at_edge(scope, "token-b") is None
    assert verified_at_edge({}, "token-a") is None
