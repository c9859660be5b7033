"""Step-up tokens: identity's short-lived word that a user just proved a second factor
for one action, verified locally by the service that performs it.

A dispatcher's break-glass reveal needs more than an access token where the
tenant's policy asks for it: a fresh TOTP code, checked by identity (each
30-second step once, throttled like a login). Identity answers with a step-up
token, and the service performing the action checks it like an access token —
signature against identity's JWKS, issuer, audience, times — without trusting
whoever carried it (the gateway) to have asked:

* JOSE ``typ`` ``step-up+jwt``: never accepted as an access token (those must
  be ``at+jwt``), and an access token never passes as a step-up token;
* ``aud`` the service performing the action; it lives :data:`STEP_UP_TTL_SECONDS`;
* ``sub``, ``tid`` and ``sid`` are those of the access token of the same
  call: another user, tenant or login session cannot use it;
* ``purpose`` (``break_glass``) and ``target`` (the object of the action,
  e.g. ``{"site_id": ..., "kind": ...}``): a proof for one reveal is not one
  for another;
* ``amr``: ``["otp"]`` when a code was checked, ``[]`` when the tenant's
  policy asks for none — identity decides that, the service still requires
  identity's word for every such action.

A refusal is only ever logged by its reason; the token is a credential.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any, Final

import jwt
from jwt.exceptions import PyJWTError

from fieldvault_platform.auth.contract import ALLOWED_ALGORITHMS, DEFAULT_LEEWAY
from fieldvault_platform.auth.jwks import JwksCache
from fieldvault_platform.auth.principal import Principal

logger = logging.getLogger(__name__)

#: The JOSE ``typ`` of a step-up token.
STEP_UP_TOKEN_TYPE: Final = "step-up+jwt"  # noqa: S105 (a media type, not a secret)
#: How long identity's step-up token is good for: one action, right away.
STEP_UP_TTL_SECONDS: Final = 60
#: The purpose of a dispatcher's break-glass reveal.
BREAK_GLASS: Final = "break_glass"

MAX_STEP_UP_TOKEN_LENGTH = 4 * 1024
_REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "nbf", "jti"]


async def verify_step_up(
    jwks: JwksCache,
    token: str,
    *,
    issuer: str,
    audience: str,
    principal: Principal,
    purpose: str,
    target: Mapping[str, str],
    leeway: float = DEFAULT_LEEWAY,
) -> bool:
    """Whether ``token`` is identity's step-up for this caller, purpose and target, now."""
    if not token or len(token) > MAX_STEP_UP_TOKEN_LENGTH or token.count(".") != 2:
        return _refused("absent or malformed")
    try:
        header = jwt.get_unverified_header(token)
    except PyJWTError:
        return _refused("unreadable header")
    kid, algorithm = header.get("kid"), header.get("alg")
    if header.get("typ") != STEP_UP_TOKEN_TYPE or algorithm not in ALLOWED_ALGORITHMS:
        return _refused("not a step-up token")
    if "crit" in header or "b64" in header or not isinstance(kid, str):
        return _refused("unsupported header")
    key = await jwks.get(kid)
    if key is None or key.algorithm != algorithm:
        return _refused("unknown key")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.public_key,
            algorithms=[key.algorithm],
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": _REQUIRED_CLAIMS, "strict_aud": True},
        )
    except PyJWTError as exc:
        reason = type(exc).__name__
    else:
        return _matches(claims, principal=principal, purpose=purpose, target=target, leeway=leeway)
    return _refused(reason)


def _matches(
    claims: Mapping[str, Any],
    *,
    principal: Principal,
    purpose: str,
    target: Mapping[str, str],
    leeway: float,
) -> bool:
    issued_at = claims.get("iat")
    if isinstance(issued_at, bool) or not isinstance(issued_at, int | float):
        return _refused("iat is not a NumericDate")
    if time.time() - issued_at > STEP_UP_TTL_SECONDS + leeway:
        return _refused("issued too long ago")
    expected = {
        "sub": principal.subject,
        "tid": principal.tenant_id,
        "sid": principal.session_id,
        "purpose": purpose,
        "target": dict(target),
    }
    for name, value in expected.items():
        if value is None or claims.get(name) != value:
            return _refused(f"{name} does not match the call")
    return True


def _refused(reason: str) -> bool:
    logger.info("step-up token refused", extra={"reason": reason})
    return False
