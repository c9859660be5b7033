"""Verifying an access token: header, key, signature, claims, deny list — in that order.

Every refusal is an :class:`Unauthenticated` whose message is one of the
short ``REASON_*`` strings of the contract. Neither the message nor the log
line quotes the token or a claim from it: the log names at most the ``kid``
(if it looks like one) and, once the signature has been checked, the ``jti``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from typing import Any, NoReturn

import jwt
from jwt.exceptions import (
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAudienceError,
    PyJWTError,
)

from fieldvault_platform.auth.contract import (
    ALLOWED_ALGORITHMS,
    AUDIENCES,
    DEFAULT_LEEWAY,
    DEFAULT_MAX_TOKEN_LIFETIME,
    REASON_EXPIRED,
    REASON_INVALID,
    REASON_NOT_YET_VALID,
    REASON_REVOKED,
    REASON_WRONG_AUDIENCE,
    TOKEN_TYPE,
)
from fieldvault_platform.auth.deny_list import DenyList
from fieldvault_platform.auth.jwks import JwksCache
from fieldvault_platform.auth.principal import InvalidClaims, Principal, principal_from_claims
from fieldvault_platform.auth.step_up import verify_step_up
from fieldvault_platform.errors import Unauthenticated

logger = logging.getLogger(__name__)

#: Far above any token identity mints (about 1 KiB); parsing stops before
#: base64 and JSON decoding of whatever a client chose to send.
MAX_TOKEN_LENGTH = 8 * 1024

_REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "nbf", "jti"]
#: Shape of a ``kid`` or ``jti`` worth putting in a log line; anything else
#: (which an attacker controls before the signature check) is not logged.
_LOGGABLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class TokenVerifier:
    """Turns a bearer token into a :class:`Principal`, or refuses it."""

    def __init__(
        self,
        jwks: JwksCache,
        *,
        issuer: str,
        audience: str,
        deny_list: DenyList,
        leeway: float = DEFAULT_LEEWAY,
        max_token_lifetime: float = DEFAULT_MAX_TOKEN_LIFETIME,
    ) -> None:
        if audience not in AUDIENCES:
            raise ValueError(f"audience must be one of {sorted(AUDIENCES)}")
        if deny_list.retention < max_token_lifetime + leeway:
            # Otherwise the list would forget a revocation while the token it
            # covers is still accepted here.
            raise ValueError("deny_list must remember revocations for max_token_lifetime + leeway")
        self._jwks = jwks
        self._issuer = issuer
        self.audience = audience
        self._deny_list = deny_list
        self._leeway = leeway
        self._max_token_lifetime = max_token_lifetime

    async def verify(self, token: str) -> Principal:
        header = _header(token)
        kid = header["kid"]
        key = await self._jwks.get(kid)
        if key is None:
            _refuse(REASON_INVALID, "unknown kid", kid=kid)
        if header["alg"] != key.algorithm:
            _refuse(REASON_INVALID, "alg does not match the key", kid=kid)
        claims = self._verified_claims(token, key.public_key, key.algorithm, kid)
        jti = claims.get("jti")
        try:
            # PyJWT coerces with int(), so "123" or true pass its time checks;
            # the strict parse rejects them before anything relies on them.
            principal: Principal | None = principal_from_claims(claims)
        except InvalidClaims as exc:
            principal, broken = None, str(exc)
        if principal is None:
            _refuse(REASON_INVALID, broken, kid=kid, jti=jti)
        age = time.time() - principal.issued_at.timestamp()
        if age > self._max_token_lifetime + self._leeway:
            # exp says otherwise, but no token lives this long: identity never
            # mints one, and the deny list has forgotten revocations this old.
            _refuse(REASON_EXPIRED, "issued too long ago", kid=kid, jti=jti)
        if self._deny_list.is_revoked(principal):
            _refuse(REASON_REVOKED, "revoked", kid=kid, jti=jti)
        return principal

    async def verify_step_up(
        self, token: str, *, principal: Principal, purpose: str, target: Mapping[str, str]
    ) -> bool:
        """Whether ``token`` is identity's step-up for ``principal`` (already verified here),
        ``purpose`` and ``target`` (:mod:`fieldvault_platform.auth.step_up`)."""
        return await verify_step_up(
            self._jwks,
            token,
            issuer=self._issuer,
            audience=self.audience,
            principal=principal,
            purpose=purpose,
            target=target,
            leeway=self._leeway,
        )

    def _verified_claims(
        self, token: str, public_key: Any, algorithm: str, kid: str
    ) -> dict[str, Any]:
        # The refusal is raised after the ``except`` block, so that PyJWT's
        # exception — whose message can quote token fragments — is not chained
        # to it as ``__context__`` for some error reporter to print.
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                public_key,
                # Exactly the key's algorithm, never what the header asks for.
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": _REQUIRED_CLAIMS, "strict_aud": True},
            )
        except ExpiredSignatureError:
            failure = (REASON_EXPIRED, "expired")
        except ImmatureSignatureError:
            failure = (REASON_NOT_YET_VALID, "not yet valid")
        except InvalidAudienceError:
            failure = (REASON_WRONG_AUDIENCE, "wrong audience")
        except PyJWTError as exc:
            failure = (REASON_INVALID, type(exc).__name__)
        else:
            return claims
        _refuse(*failure, kid=kid)


def _header(token: object) -> Mapping[str, Any]:
    """The JOSE header, checked against the contract before any key is looked up."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        _refuse(REASON_INVALID, "not a compact JWS of acceptable size")
    if token.count(".") != 2:
        _refuse(REASON_INVALID, "not a compact JWS")
    try:
        header: Mapping[str, Any] | None = jwt.get_unverified_header(token)
    except PyJWTError:
        header = None  # refused below, outside the except block (no chained cause)
    if header is None:
        _refuse(REASON_INVALID, "unreadable header")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        _refuse(REASON_INVALID, "no kid")
    if header.get("alg") not in ALLOWED_ALGORITHMS:
        _refuse(REASON_INVALID, "alg not allowed", kid=kid)
    if header.get("typ") != TOKEN_TYPE:
        # Only access tokens: another JWT identity signs with the same key
        # (an ID token, say) must not be accepted as one.
        _refuse(REASON_INVALID, "not an access token", kid=kid)
    if "crit" in header or "b64" in header:
        # Extensions we do not implement must be refused (RFC 7515 §4.1.11).
        _refuse(REASON_INVALID, "critical header extension", kid=kid)
    return header


def _refuse(reason: str, detail: str, *, kid: object = None, jti: object = None) -> NoReturn:
    logger.info(
        "access token refused",
        extra={"reason": reason, "detail": detail, "kid": _loggable(kid), "jti": _loggable(jti)},
    )
    raise Unauthenticated(reason)


def _loggable(value: object) -> str | None:
    if isinstance(value, str) and _LOGGABLE_ID.fullmatch(value):
        return value
    return None
