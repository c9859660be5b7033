"""A stand-in for identity: local signing keys, a JWKS fetch that counts, a token minter.

The keys are generated here with ``cryptography``; nothing talks to identity.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fieldvault_platform.auth import DenyList, JwksCache, TokenVerifier

ISSUER = "fieldvault-identity"
AUDIENCE = "work_order"
#: Planted in claims and tokens; must never show up in an error or a log line.
CANARY = "CANARY7f3a9c1e"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class FakeClock:
    """A settable clock for the cache's rate limits and the deny list's expiry."""

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class TestIssuer:
    """Signs tokens like identity will, and serves its JWKS."""

    __test__ = False  # not a test class, despite the name

    def __init__(self) -> None:
        self.private_keys: dict[str, Any] = {}
        self.algorithms: dict[str, str] = {}
        #: kids currently in the JWKS (a key can sign after leaving it, to test removal).
        self.published: list[str] = []
        self.fetch_count = 0
        self.fetch_delay = 0.0
        self.failing = False

    def add_key(self, kid: str | None = None, *, algorithm: str = "EdDSA") -> str:
        kid = kid or f"key-{uuid.uuid4().hex[:8]}"
        if algorithm == "EdDSA":
            self.private_keys[kid] = ed25519.Ed25519PrivateKey.generate()
        else:
            self.private_keys[kid] = ec.generate_private_key(ec.SECP256R1())
        self.algorithms[kid] = algorithm
        self.published.append(kid)
        return kid

    def jwk(self, kid: str) -> dict[str, Any]:
        public = self.private_keys[kid].public_key()
        if isinstance(public, ed25519.Ed25519PublicKey):
            raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
            return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw), "kid": kid, "use": "sig"}
        numbers = public.public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url(numbers.x.to_bytes(32, "big")),
            "y": b64url(numbers.y.to_bytes(32, "big")),
            "kid": kid,
            "use": "sig",
            "alg": "ES256",
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk(kid) for kid in self.published]}

    async def fetch(self) -> dict[str, Any]:
        self.fetch_count += 1
        if self.fetch_delay:
            await asyncio.sleep(self.fetch_delay)
        if self.failing:
            raise ConnectionError("identity is down")
        return self.jwks()

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": "user-1",
            "aud": AUDIENCE,
            "exp": now + 300,
            "iat": now,
            "nbf": now,
            "jti": uuid.uuid4().hex,
            "tid": "tenant-a",
            "org": "org-1",
            "roles": ["dispatcher"],
            "areas": ["area-1", "area-2"],
            "scope": "work_orders:read work_orders:write",
            "sid": "session-1",
            "amr": ["pwd", "otp"],
        }
        for name, value in overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def mint(
        self, *, kid: str | None = None, header: dict[str, Any] | None = None, **claims: Any
    ) -> str:
        kid = kid or self.published[0]
        headers = {"kid": kid, "typ": "at+jwt", **(header or {})}
        return jwt.encode(
            self.claims(**claims),
            self.private_keys[kid],
            algorithm=self.algorithms[kid],
            headers={k: v for k, v in headers.items() if v is not None},
        )


@pytest.fixture
def issuer() -> TestIssuer:
    issuer = TestIssuer()
    issuer.add_key("key-1")
    return issuer


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(now=1000.0)


@pytest.fixture
def jwks(issuer: TestIssuer, clock: FakeClock) -> JwksCache:
    return JwksCache(issuer.fetch, min_refresh_interval=30.0, max_age=300.0, clock=clock)


@pytest.fixture
def deny_list() -> DenyList:
    return DenyList()


@pytest.fixture
def make_verifier(jwks: JwksCache, deny_list: DenyList) -> Callable[..., TokenVerifier]:
    def make(**options: Any) -> TokenVerifier:
        cache = options.pop("jwks", jwks)
        settings: dict[str, Any] = {"issuer": ISSUER, "audience": AUDIENCE, "deny_list": deny_list}
        settings.update(options)
        return TokenVerifier(cache, **settings)

    return make


@pytest.fixture
def verifier(make_verifier: Callable[..., TokenVerifier]) -> TokenVerifier:
    return make_verifier()
