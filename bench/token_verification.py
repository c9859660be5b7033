"""Per-token cost of the platform's access-token verification, against a bare PyJWT decode.

Every request to every service verifies its caller's token locally, so this is
on the hot path everywhere. Both variants check the same Ed25519 signature over
the same tokens; the difference is what the platform adds around it:

* raw: ``jwt.decode(token, public_key, algorithms=["EdDSA"], audience=..., issuer=...)``
  (signature, ``exp``, ``aud``, ``iss``) — the baseline;
* TokenVerifier: ``fieldvault_platform.auth.TokenVerifier.verify`` — header
  checks (``typ``, ``alg`` bound to the key), ``kid`` lookup in the JWKS cache,
  the whole claim contract, ``Principal`` construction and the deny-list check
  (with ``--revoked`` unrelated revocations in it).

Keys are generated locally (no Vault): signing is not what is measured.

Usage: python bench/token_verification.py [--n 5000] [--tokens 100] [--revoked 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fieldvault_platform.auth import DenyList, JwksCache, TokenVerifier

ISSUER = "fieldvault-identity"
AUDIENCE = "work_order"
KID = "fv-identity-signing:v1"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _tokens(private_key: Ed25519PrivateKey, count: int) -> list[str]:
    now = int(time.time())
    tokens = []
    for index in range(count):
        claims = {
            "iss": ISSUER,
            "sub": str(uuid.uuid4()),
            "aud": AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
            "tid": f"tenant-{index % 7}",
            "org": "org-1",
            "roles": ["technician"],
            "areas": ["area-1", "area-2"],
            "scope": "profile work_orders:read work_orders:progress secrets:reveal",
            "sid": str(uuid.uuid4()),
            "amr": ["pwd", "otp"],
        }
        headers = {"kid": KID, "typ": "at+jwt"}
        tokens.append(jwt.encode(claims, private_key, algorithm="EdDSA", headers=headers))
    return tokens


async def _best_ns_per_token(
    verify: Callable[[str], Awaitable[Any]], tokens: list[str], n: int, repeat: int
) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter_ns()
        for index in range(n):
            await verify(tokens[index % len(tokens)])
        best = min(best, (time.perf_counter_ns() - start) / n)
    return best


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=5000, help="verifications per run")
    parser.add_argument("--tokens", type=int, default=100, help="distinct tokens cycled through")
    parser.add_argument("--revoked", type=int, default=10_000, help="unrelated deny-list entries")
    parser.add_argument("--repeat", type=int, default=5, help="runs per variant (best counts)")
    args = parser.parse_args()

    private_key = Ed25519PrivateKey.generate()
    public_key = private_key.public_key()
    raw_public = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    jwks = {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw_public), "kid": KID}]}

    async def fetch() -> dict[str, Any]:
        return jwks

    deny_list = DenyList()
    now = time.time()
    for index in range(args.revoked):
        deny_list.revoke_session("tenant-x", f"session-{index}", revoked_at=now)
    verifier = TokenVerifier(
        JwksCache(fetch), issuer=ISSUER, audience=AUDIENCE, deny_list=deny_list
    )
    tokens = _tokens(private_key, args.tokens)

    async def raw(token: str) -> Any:
        return jwt.decode(token, public_key, algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER)

    await verifier.verify(tokens[0])  # warm the JWKS cache
    raw_ns = await _best_ns_per_token(raw, tokens, args.n, args.repeat)
    platform_ns = await _best_ns_per_token(verifier.verify, tokens, args.n, args.repeat)

    print(f"{'variant':<28}{'µs/token':>10}{'tokens/s':>12}")
    print(f"{'raw jwt.decode':<28}{raw_ns / 1000:>10.1f}{1e9 / raw_ns:>12.0f}")
    print(f"{'TokenVerifier.verify':<28}{platform_ns / 1000:>10.1f}{1e9 / platform_ns:>12.0f}")
    print(f"ratio TokenVerifier / raw (throughput): {raw_ns / platform_ns:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
