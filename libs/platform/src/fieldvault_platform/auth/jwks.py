"""Identity's public signing keys, cached by ``kid``.

Services verify tokens locally, so the only call to identity on the hot path
is a JWKS refresh, and it has to stay rare: a refresh happens when a token
names a ``kid`` the cache does not know (identity rotated its key) or when
the cached set is older than ``max_age`` (so a key identity withdrew stops
being accepted). Refreshes are rate-limited — a flood of tokens with made-up
``kid`` values must not turn every service into a load generator against
identity — and concurrent ones coalesce into one fetch.

How the JWKS is fetched (identity's gRPC ``GetJwks``, the gateway's
``/.well-known/jwks.json``) is the caller's business: the cache takes any
async callable returning the JWKS document.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jwt import PyJWK
from jwt.exceptions import PyJWTError

from fieldvault_platform.errors import Unavailable

logger = logging.getLogger(__name__)

#: Returns a JWKS document: ``{"keys": [<JWK>, ...]}``.
JwksFetch = Callable[[], Awaitable[Mapping[str, Any]]]

#: The only key types accepted, each bound to its one algorithm. Deriving the
#: algorithm from the key (never from the token header) is what defeats
#: algorithm confusion: an ``oct`` (HMAC) or RSA key is never loaded at all.
_ALGORITHM_BY_KEY_TYPE: Mapping[tuple[str, str], str] = {
    ("OKP", "Ed25519"): "EdDSA",
    ("EC", "P-256"): "ES256",
}

#: While the cache has never loaded a key set, a failed fetch is retried
#: sooner than ``min_refresh_interval``: a service that starts before identity
#: should begin verifying about a second after identity is up, not much later.
_EMPTY_CACHE_RETRY_INTERVAL = 1.0


@dataclass(frozen=True, slots=True)
class VerificationKey:
    kid: str
    #: The JWS ``alg`` this key verifies; a token must name exactly this.
    algorithm: str
    #: A ``cryptography`` public key object, as PyJWT expects it.
    public_key: Any


class JwksCache:
    """Public keys by ``kid``, refreshed on an unknown ``kid`` or when stale."""

    def __init__(
        self,
        fetch: JwksFetch,
        *,
        min_refresh_interval: float = 10.0,
        max_age: float = 300.0,
        fetch_timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._min_refresh_interval = min_refresh_interval
        self._max_age = max_age
        self._fetch_timeout = fetch_timeout
        self._clock = clock
        self._keys: dict[str, VerificationKey] = {}
        self._loaded_at: float | None = None
        self._last_attempt: float | None = None
        self._inflight: asyncio.Task[bool] | None = None

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(self._keys)

    async def get(self, kid: str) -> VerificationKey | None:
        """The key for ``kid``; None if identity does not publish it (even after a refresh).

        Raises :class:`Unavailable` if no key set was ever loaded and fetching
        one fails — a service that cannot verify anything must say so rather
        than call every caller unauthenticated.
        """
        if kid not in self._keys or self._is_stale():
            await self._refresh_if_allowed()
        if self._loaded_at is None:
            raise Unavailable("token signing keys are unavailable")
        return self._keys.get(kid)

    async def refresh(self) -> None:
        """Fetch now, ignoring the rate limit (start-up warm-up, tests).

        Raises :class:`Unavailable` if the fetch fails.
        """
        if not await self._join_or_start_fetch():
            raise Unavailable("token signing keys are unavailable")

    def _is_stale(self) -> bool:
        return self._loaded_at is None or self._clock() - self._loaded_at >= self._max_age

    async def _refresh_if_allowed(self) -> None:
        if self._inflight is None and self._last_attempt is not None:
            interval = (
                self._min_refresh_interval
                if self._loaded_at is not None
                else min(self._min_refresh_interval, _EMPTY_CACHE_RETRY_INTERVAL)
            )
            if self._clock() - self._last_attempt < interval:
                return  # rate-limited: answer from what we have
        await self._join_or_start_fetch()

    async def _join_or_start_fetch(self) -> bool:
        if self._inflight is None:
            self._last_attempt = self._clock()
            self._inflight = asyncio.create_task(self._fetch_and_store())
        # Shielded: one waiting verifier being cancelled (its request timed out)
        # must not cancel the fetch the others are waiting for.
        return await asyncio.shield(self._inflight)

    async def _fetch_and_store(self) -> bool:
        try:
            # Bounded: a hung identity must not hang every request waiting on the fetch.
            document = await asyncio.wait_for(self._fetch(), self._fetch_timeout)
            keys = parse_jwks(document)
        except Exception as exc:
            # Keep the keys we have: a blip at identity must not log everyone out.
            logger.warning(
                "JWKS refresh failed; keeping the cached keys",
                extra={"error_type": type(exc).__name__, "cached_kids": sorted(self._keys)},
            )
            return False
        finally:
            # Cleared before the waiters resume, so the next refresh starts anew.
            self._inflight = None
        if not keys:
            logger.warning("JWKS holds no usable signing key; every token will be refused")
        added = sorted(keys.keys() - self._keys.keys())
        removed = sorted(self._keys.keys() - keys.keys())
        if added or removed:
            logger.info("JWKS refreshed", extra={"added_kids": added, "removed_kids": removed})
        self._keys = keys
        self._loaded_at = self._clock()
        return True


def parse_jwks(document: Mapping[str, Any]) -> dict[str, VerificationKey]:
    """The usable verification keys of a JWKS document, by ``kid``.

    Keys the contract does not allow are skipped with a warning rather than
    failing the whole set, so identity can publish a key of a newer type
    before every verifier understands it.
    """
    entries = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(entries, list):
        raise ValueError("JWKS document has no 'keys' list")
    keys: dict[str, VerificationKey] = {}
    for entry in entries:
        key = _parse_key(entry)
        if key is None:
            continue
        if key.kid in keys:
            logger.warning("JWKS repeats a kid; the first key wins", extra={"kid": key.kid})
            continue
        keys[key.kid] = key
    return keys


def _parse_key(entry: object) -> VerificationKey | None:
    if not isinstance(entry, Mapping):
        logger.warning("JWKS entry is not an object; ignored")
        return None
    kid = entry.get("kid")
    if not isinstance(kid, str) or not kid:
        logger.warning("JWKS key without a kid ignored")
        return None
    if entry.get("use", "sig") != "sig":
        return None  # an encryption key: not ours to verify with
    if "d" in entry:
        # A private key in a public document is a leak on identity's side;
        # refusing to use it makes the mistake visible instead of silent.
        logger.warning("JWKS key carries private key material; ignored", extra={"kid": kid})
        return None
    algorithm = _ALGORITHM_BY_KEY_TYPE.get((str(entry.get("kty")), str(entry.get("crv"))))
    declared = entry.get("alg")
    if algorithm is None or (declared is not None and declared != algorithm):
        logger.warning("JWKS key of a type the token contract does not allow", extra={"kid": kid})
        return None
    try:
        public_key = PyJWK(dict(entry), algorithm=algorithm).key
    except PyJWTError:
        logger.warning("JWKS key could not be loaded", extra={"kid": kid})
        return None
    return VerificationKey(kid=kid, algorithm=algorithm, public_key=public_key)
