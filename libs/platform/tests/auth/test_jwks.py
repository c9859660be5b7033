"""JwksCache: rotation, rate-limited and coalesced refreshes, outages, what keys it loads."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from fieldvault_platform.auth import JwksCache, TokenVerifier, parse_jwks
from fieldvault_platform.errors import Unauthenticated, Unavailable


async def test_a_new_kid_triggers_a_refresh_and_the_old_key_keeps_working(
    issuer: Any, verifier: TokenVerifier, clock: Any
) -> None:
    await verifier.verify(issuer.mint(kid="key-1"))
    assert issuer.fetch_count == 1

    clock.advance(60)  # identity rotates a while later
    new_kid = issuer.add_key("key-2")
    await verifier.verify(issuer.mint(kid=new_kid))
    assert issuer.fetch_count == 2

    # Tokens signed before the rotation stay valid while key-1 is published.
    await verifier.verify(issuer.mint(kid="key-1"))
    assert issuer.fetch_count == 2


async def test_a_key_withdrawn_from_the_jwks_is_refused_once_the_cache_is_stale(
    issuer: Any, verifier: TokenVerifier, clock: Any
) -> None:
    await verifier.verify(issuer.mint(kid="key-1"))
    issuer.add_key("key-2")
    issuer.published.remove("key-1")

    clock.advance(299)
    await verifier.verify(issuer.mint(kid="key-1"))  # still cached
    clock.advance(2)  # past max_age: the next lookup refreshes
    with pytest.raises(Unauthenticated, match="token invalid"):
        await verifier.verify(issuer.mint(kid="key-1"))


async def test_twenty_concurrent_unknown_kids_cause_one_fetch_then_none(
    issuer: Any, verifier: TokenVerifier, clock: Any
) -> None:
    await verifier.verify(issuer.mint())
    clock.advance(60)
    issuer.fetch_delay = 0.05  # so the twenty overlap
    bogus = [issuer.mint(header={"kid": f"bogus-{n}"}) for n in range(20)]

    results = await asyncio.gather(*(verifier.verify(t) for t in bogus), return_exceptions=True)

    assert all(isinstance(r, Unauthenticated) for r in results)
    assert issuer.fetch_count == 2  # the initial load + one coalesced refresh

    # More bogus kids inside the rate-limit window: no fetch at all.
    results = await asyncio.gather(*(verifier.verify(t) for t in bogus), return_exceptions=True)
    assert all(isinstance(r, Unauthenticated) for r in results)
    assert issuer.fetch_count == 2

    clock.advance(30)  # the window has passed: one more refresh is allowed
    with pytest.raises(Unauthenticated):
        await verifier.verify(bogus[0])
    assert issuer.fetch_count == 3


async def test_a_genuinely_new_key_inside_the_rate_limit_window_waits_for_it(
    issuer: Any, verifier: TokenVerifier, clock: Any
) -> None:
    """Why identity must publish a key before signing with it (see the contract)."""
    await verifier.verify(issuer.mint())
    new_kid = issuer.add_key("key-2")

    with pytest.raises(Unauthenticated):
        await verifier.verify(issuer.mint(kid=new_kid))
    clock.advance(30)
    await verifier.verify(issuer.mint(kid=new_kid))


async def test_concurrent_first_loads_share_one_fetch(issuer: Any, verifier: TokenVerifier) -> None:
    issuer.fetch_delay = 0.05
    tokens = [issuer.mint() for _ in range(20)]

    await asyncio.gather(*(verifier.verify(t) for t in tokens))

    assert issuer.fetch_count == 1


async def test_a_cancelled_waiter_does_not_cancel_the_shared_fetch(
    issuer: Any, verifier: TokenVerifier
) -> None:
    issuer.fetch_delay = 0.1
    impatient = asyncio.create_task(verifier.verify(issuer.mint()))
    patient = asyncio.create_task(verifier.verify(issuer.mint()))
    await asyncio.sleep(0.02)
    impatient.cancel()

    principal = await patient

    assert principal.subject == "user-1"
    assert issuer.fetch_count == 1


async def test_no_keys_and_identity_down_is_unavailable_not_unauthenticated(
    issuer: Any, verifier: TokenVerifier, clock: Any
) -> None:
    issuer.failing = True

    with pytest.raises(Unavailable):
        await verifier.verify(issuer.mint())
    with pytest.raises(Unavailable):
        await verifier.verify(issuer.mint())
    assert issuer.fetch_count == 1  # retries are rate-limited too

    issuer.failing = False
    clock.advance(1)  # an empty cache retries after a second, not the full interval
    await verifier.verify(issuer.mint())
    assert issuer.fetch_count == 2


async def test_stale_keys_keep_working_while_identity_is_down(
    issuer: Any, verifier: TokenVerifier, clock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    await verifier.verify(issuer.mint())
    issuer.failing = True
    clock.advance(3600)

    with caplog.at_level(logging.WARNING):
        await verifier.verify(issuer.mint())

    assert "JWKS refresh failed" in caplog.text


async def test_a_hung_fetch_times_out_as_unavailable(issuer: Any, clock: Any) -> None:
    issuer.fetch_delay = 10
    cache = JwksCache(issuer.fetch, fetch_timeout=0.05, clock=clock)

    with pytest.raises(Unavailable):
        await cache.get("key-1")


def test_only_the_contracts_public_signing_keys_are_loaded(
    issuer: Any, caplog: pytest.LogCaptureFixture
) -> None:
    good = issuer.jwk("key-1")
    es_kid = issuer.add_key(algorithm="ES256")
    document = {
        "keys": [
            good,
            issuer.jwk(es_kid),
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "rsa"},
            {**good, "kid": "private", "d": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI"},
            {**good, "kid": "enc", "use": "enc"},
            {**good, "kid": "lying-alg", "alg": "HS256"},
            {**good, "kid": None},
            {"kty": "OKP", "crv": "Ed25519", "x": "!!", "kid": "broken"},
            "not-an-object",
            {**good, "x": issuer.jwk(issuer.add_key())["x"]},  # duplicate kid-1
        ]
    }

    keys = parse_jwks(document)

    assert set(keys) == {"key-1", es_kid}
    assert keys["key-1"].algorithm == "EdDSA"
    assert keys[es_kid].algorithm == "ES256"
    assert "c2VjcmV0" not in caplog.text


@pytest.mark.parametrize("document", [{}, {"keys": "nope"}, []])
async def test_a_malformed_jwks_is_a_failed_fetch(clock: Any, document: Any) -> None:
    async def fetch() -> Any:
        return document

    cache = JwksCache(fetch, clock=clock)

    with pytest.raises(Unavailable):
        await cache.refresh()
