"""Access-token signing with the private key held in Vault Transit.

The Ed25519 signing key is a Transit key (``fv-identity-signing`` by default)
that is not exportable; identity's Vault policy allows sign, verify and key
management on ``fv-identity-*`` and nothing that would export it. So no
private key is ever on disk or in this process: :meth:`TokenSigner.sign`
builds the JWS signing input locally and asks ``transit/sign`` for the
signature.

Latency: signing costs **one Vault call per token** (``transit/sign``). The
key's metadata — latest version and public keys — is cached for
``cache_ttl_seconds`` (public, so caching is harmless); refreshing it costs
one extra ``transit/keys`` read once per TTL, not per token.

Rotation without logging anyone out: :meth:`TokenSigner.rotate` adds a new
key version, which is published in the JWKS at once but signs tokens only
after ``activation_delay_seconds`` (default 60 s: longer than a verifier's
JWKS refresh interval plus this signer's cache TTL), so no verifier ever sees
a ``kid`` it could not yet have fetched. Every version at or above Transit's
``min_decryption_version`` stays in the JWKS, so tokens signed before the
rotation still verify until they expire. Retire old versions by raising
``min_decryption_version`` on the key once their tokens have expired (access
tokens live minutes). Several identity replicas agree on the signing version
because it follows from Vault's creation times, not from who rotated.

Each token's header carries ``kid = "<key name>:v<version>"``, and the JWKS
publishes one OKP/Ed25519 key per version under the same ``kid``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import hvac
import hvac.exceptions

from fieldvault_platform.auth.contract import DEFAULT_ISSUER, TOKEN_TYPE
from fieldvault_platform.vault import VaultClient, VaultRefused

log = logging.getLogger(__name__)

DEFAULT_KEY_NAME = "fv-identity-signing"
KEY_TYPE = "ed25519"
ALGORITHM = "EdDSA"
ED25519_SIGNATURE_BYTES = 64
ED25519_PUBLIC_KEY_BYTES = 32


def b64url(data: bytes) -> str:
    """Base64url without padding, as JOSE wants it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def kid_for(key_name: str, version: int) -> str:
    return f"{key_name}:v{version}"


def parse_kid(kid: str) -> tuple[str, int]:
    """``"fv-identity-signing:v3"`` → ``("fv-identity-signing", 3)``; ValueError otherwise."""
    key_name, sep, version = kid.rpartition(":v")
    if not sep or not key_name or not version.isdigit() or int(version) < 1:
        raise ValueError("not a fieldvault signing key id")
    return key_name, int(version)


def _canonical_json(value: Mapping[str, Any]) -> bytes:
    # Compact and key-sorted, so equal claims give byte-identical tokens.
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=True).encode()


@dataclass(frozen=True)
class PublicKeyVersion:
    version: int
    kid: str
    #: Raw 32-byte Ed25519 public key.
    public_key: bytes
    #: When Vault created this version (Unix seconds).
    created_at: float

    def jwk(self) -> dict[str, str]:
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64url(self.public_key),
            "kid": self.kid,
            "alg": ALGORITHM,
            "use": "sig",
        }


@dataclass(frozen=True)
class _KeyState:
    latest_version: int
    #: Versions still published (>= min_decryption_version), oldest first.
    published: tuple[PublicKeyVersion, ...]
    exportable: bool
    fetched_at: float

    def signing_version(self, *, now: float, activation_delay: float) -> int:
        """The newest version published for at least ``activation_delay`` seconds.

        Verifiers learn a new key from the JWKS only when they refresh, so a
        rotated-in version is used for signing only once every verifier can
        have fetched it. The key's first version is used at once: nobody can
        hold tokens of an older one.
        """
        for key in reversed(self.published):
            if key.created_at <= now - activation_delay:
                return key.version
        return self.published[0].version


class TokenSigner:
    """Signs compact JWS (JWT) with an Ed25519 key that never leaves Vault Transit."""

    def __init__(
        self,
        vault: VaultClient,
        *,
        key_name: str = DEFAULT_KEY_NAME,
        issuer: str = DEFAULT_ISSUER,
        cache_ttl_seconds: float = 30.0,
        activation_delay_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._vault = vault
        self.key_name = key_name
        self.issuer = issuer
        self._cache_ttl = cache_ttl_seconds
        self._clock = clock
        self._wall_clock = wall_clock
        # Longer than a verifier's JWKS refresh interval plus this cache's TTL.
        self._activation_delay = activation_delay_seconds
        self._state: _KeyState | None = None
        self._refresh_lock = asyncio.Lock()

    # -- public API -----------------------------------------------------------------

    async def ensure_key(self) -> str:
        """Create the Ed25519 Transit key unless it exists; returns the current ``kid``."""
        key = await self._vault.ensure_transit_key(self.key_name, key_type=KEY_TYPE)
        if key.created:
            log.info("created token signing key", extra={"kid": kid_for(self.key_name, 1)})
        state = await self._refresh()
        if state.exportable:
            # The policy still refuses transit/export, but the key was not created
            # by us and could be exported by a broader token.
            log.warning("token signing key is marked exportable", extra={"key": self.key_name})
        return kid_for(self.key_name, state.latest_version)

    async def current_kid(self) -> str:
        """The ``kid`` new tokens are signed with now."""
        return kid_for(self.key_name, await self._signing_version())

    async def _signing_version(self) -> int:
        state = await self._key_state()
        return state.signing_version(
            now=self._wall_clock(), activation_delay=self._activation_delay
        )

    async def sign(self, claims: Mapping[str, Any], *, token_type: str = TOKEN_TYPE) -> str:
        """A compact JWS over ``claims`` (``iss`` set to this signer's issuer).

        Claims are not interpreted here beyond ``iss``: building them is the
        token contract's job. ``token_type`` is the JOSE ``typ``: an access
        token unless said otherwise (a step-up token must never pass as one).
        Raises Unavailable when Vault cannot be reached.
        """
        if claims.get("iss", self.issuer) != self.issuer:
            raise ValueError("claims name a different issuer than this signer")
        version = await self._signing_version()
        header = {"alg": ALGORITHM, "typ": token_type, "kid": kid_for(self.key_name, version)}
        payload = {**claims, "iss": self.issuer}
        signing_input = f"{b64url(_canonical_json(header))}.{b64url(_canonical_json(payload))}"
        signature = await self._transit_sign(signing_input.encode("ascii"), version)
        return f"{signing_input}.{b64url(signature)}"

    async def jwks(self) -> dict[str, Any]:
        """The JSON Web Key Set of every still-valid key version, newest first."""
        state = await self._key_state()
        return {"keys": [key.jwk() for key in reversed(state.published)]}

    async def rotate(self) -> str:
        """Add a key version and return its ``kid``.

        It is published in the JWKS at once and signs new tokens after the
        activation delay; tokens of older versions keep verifying.
        """
        name = self.key_name

        def rotate(client: hvac.Client) -> None:
            client.secrets.transit.rotate_key(name=name)

        await self._vault.call(rotate, name="transit.rotate_key")
        state = await self._refresh()
        kid = kid_for(self.key_name, state.latest_version)
        log.info("rotated token signing key", extra={"kid": kid})
        return kid

    # -- Vault ----------------------------------------------------------------------

    async def _transit_sign(self, signing_input: bytes, version: int) -> bytes:
        name = self.key_name
        encoded = base64.b64encode(signing_input).decode("ascii")

        def sign(client: hvac.Client) -> str:
            response = client.secrets.transit.sign_data(
                name=name, hash_input=encoded, key_version=version
            )
            return str(response["data"]["signature"])

        answer = await self._vault.call(sign, name="transit.sign")
        # "vault:v<N>:<base64 raw signature>"
        prefix, _, rest = answer.partition(":")
        signed_version, _, encoded_signature = rest.partition(":")
        try:
            signature = base64.b64decode(encoded_signature, validate=True)
        except binascii.Error:
            signature = b""
        if (
            prefix != "vault"
            or signed_version != f"v{version}"
            or len(signature) != ED25519_SIGNATURE_BYTES
        ):
            raise VaultRefused("Vault returned a signature in an unexpected form (transit.sign)")
        return signature

    def _fresh_state(self) -> _KeyState | None:
        state = self._state
        if state is not None and self._clock() - state.fetched_at < self._cache_ttl:
            return state
        return None

    async def _key_state(self) -> _KeyState:
        return self._fresh_state() or await self._refresh(force=False)

    async def _refresh(self, *, force: bool = True) -> _KeyState:
        async with self._refresh_lock:
            # Concurrent callers that found the cache stale wait here; the first
            # one reads, the rest reuse its answer (one read per TTL, not per call).
            if not force and (state := self._fresh_state()) is not None:
                return state
            name = self.key_name

            def read(client: hvac.Client) -> dict[str, Any]:
                return dict(client.secrets.transit.read_key(name=name)["data"])

            try:
                data = await self._vault.call(read, name="transit.read_key")
            except VaultRefused as exc:
                if isinstance(exc.__cause__, hvac.exceptions.InvalidPath):
                    raise VaultRefused(
                        f"the token signing key {name} does not exist; call ensure_key() first"
                    ) from exc
                raise
            self._state = self._parse_key(data)
            return self._state

    def _parse_key(self, data: Mapping[str, Any]) -> _KeyState:
        if data.get("type") != KEY_TYPE or not data.get("supports_signing"):
            raise VaultRefused(f"the Transit key {self.key_name} is not an {KEY_TYPE} signing key")
        latest = int(data["latest_version"])
        oldest = max(1, int(data.get("min_decryption_version") or 1))
        published = []
        for version_text, entry in data["keys"].items():
            version = int(version_text)
            if version < oldest:
                continue
            public_key = base64.b64decode(entry["public_key"])
            if len(public_key) != ED25519_PUBLIC_KEY_BYTES:
                raise VaultRefused(f"Vault returned a malformed public key for {self.key_name}")
            created_at = _unix_time(str(entry.get("creation_time", "")))
            published.append(
                PublicKeyVersion(version, kid_for(self.key_name, version), public_key, created_at)
            )
        published.sort(key=lambda key: key.version)
        if not published or published[-1].version != latest:
            raise VaultRefused(f"Vault did not return the latest public key of {self.key_name}")
        return _KeyState(latest, tuple(published), bool(data.get("exportable")), self._clock())


def _unix_time(rfc3339: str) -> float:
    """Vault's creation_time (RFC 3339, nanoseconds) as Unix seconds; 0.0 when unreadable."""
    # fromisoformat takes at most microseconds: cut the fraction to six digits.
    text = re.sub(r"(\.\d{6})\d+", r"\1", rfc3339.strip()).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return 0.0
