"""The constants of the access-token contract (see the package docstring).

Identity imports these when it mints tokens, so the two sides cannot drift
apart on a name or a bound.
"""

from __future__ import annotations

from typing import Final

#: The JWS algorithms a token may be signed with, each tied to the one JWK
#: key type it is verified with. Everything else — ``none``, HMAC (HS*, which
#: would let anyone holding a public key forge tokens), RSA — is refused.
ALLOWED_ALGORITHMS: Final = frozenset({"EdDSA", "ES256"})

#: The JOSE ``typ`` of an access token (RFC 9068), required, so that another
#: JWT signed with the same key can never pass as an access token.
TOKEN_TYPE: Final = "at+jwt"  # noqa: S105 (a media type, not a secret)

#: The services a token can be addressed to (the ``aud`` claim, one of them).
AUDIENCES: Final = frozenset(
    {"gateway", "customer_vault", "work_order", "notification", "identity"}
)

#: Default ``iss``; deployments configure it on both sides.
DEFAULT_ISSUER: Final = "fieldvault-identity"

#: Identity mints tokens for at most this long. Verifiers refuse a token whose
#: ``iat`` is older than this (plus leeway) even if its ``exp`` says otherwise,
#: which is what lets the deny list forget a revocation after this long.
DEFAULT_MAX_TOKEN_LIFETIME: Final = 10 * 60.0

#: Tolerated clock skew between identity and a verifier, in seconds.
DEFAULT_LEEWAY: Final = 30.0

#: ``sub`` prefixes for the principals that are not users.
CLIENT_SUBJECT_PREFIX: Final = "client:"
SERVICE_SUBJECT_PREFIX: Final = "service:"

#: The identity service's events that revoke tokens (``event_subject`` names).
IDENTITY_SERVICE: Final = "identity"
USER_DEACTIVATED_EVENT: Final = "user_deactivated"
SESSION_REVOKED_EVENT: Final = "session_revoked"
API_CLIENT_REVOKED_EVENT: Final = "api_client_revoked"

#: Refusal reasons. They are the whole message of the Unauthenticated error a
#: caller sees, so they say what is wrong in general terms and never quote the
#: token or anything in it.
REASON_INVALID: Final = "token invalid"
REASON_EXPIRED: Final = "token expired"
REASON_NOT_YET_VALID: Final = "token not yet valid"
REASON_WRONG_AUDIENCE: Final = "token not valid for this service"
REASON_REVOKED: Final = "token revoked"
