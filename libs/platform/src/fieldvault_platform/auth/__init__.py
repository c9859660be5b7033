"""Access-token verification for every service and the gateway.

Identity mints access tokens; every other component verifies them locally
with identity's public keys and a deny list fed by identity's revocation
events. The contract below is what identity must mint and what
:class:`TokenVerifier` enforces; its constants live in
:mod:`fieldvault_platform.auth.contract`.

The access-token contract
=========================

**Format.** JWS compact serialisation (three base64url segments) of a JSON
claims set, at most 8 KiB.

**Header.**

* ``alg``: ``EdDSA`` (Ed25519, what identity signs with) or ``ES256``. Only
  these two; ``none``, ``HS*`` and ``RS*`` are refused. The algorithm must
  also be the one the key's type implies (OKP/Ed25519 → EdDSA, EC/P-256 →
  ES256), so a header cannot pick how its own signature is checked.
* ``kid``: required; names a key in identity's JWKS.
* ``typ``: ``at+jwt`` (RFC 9068), required, so no other JWT signed with the
  same key can pass as an access token.
* no ``crit`` (and no ``b64``): extensions are refused.

**Claims.**

=========  ========================================================================
``iss``    the configured issuer (default ``fieldvault-identity``), exact match.
``sub``    the caller: a user id (never containing ``:``), ``client:<client_id>``
           for a partner client, or ``service:<name>`` for a service account.
``aud``    one string: the single service the token is for — ``gateway``,
           ``customer_vault``, ``work_order``, ``notification`` or ``identity``.
           A list, even of one, is refused.
``exp``    expiry (NumericDate). Identity mints tokens for at most 10 minutes.
``nbf``    not before (NumericDate).
``iat``    issued at (NumericDate). A token whose ``iat`` is more than the
           maximum lifetime (10 min) + leeway ago is refused whatever ``exp``
           says, and so is one issued in the future (beyond the leeway).
``jti``    unique token id.
``tid``    tenant id. Required on user and client tokens. Absent only on a
           ``service:`` token that is tenant-agnostic (platform-level calls such
           as tenant provisioning); such a token passes
           ``Principal.require_tenant`` only where the caller explicitly allows
           it. A service token about one tenant's data carries ``tid``.
``org``    the user's organisation id (user tokens; optional elsewhere).
``roles``  list of role names (``admin``, ``dispatcher``, ...); may be empty.
``areas``  list of area ids; may be empty.
``scope``  space-separated scopes, OAuth2 style; what the token may do.
``sid``    login session id; required on user tokens, absent on client and
           plain service tokens.
``amr``    list of authentication methods of the login, e.g. ``["pwd", "otp"]``.
``act``    only on on-behalf-of service tokens (RFC 8693 actor):
           ``{"sub": <user id>, "tid": <tenant id>, "roles": [...], "sid": <opt>}``;
           ``act.tid`` must equal ``tid``; no nested ``act``.
=========  ========================================================================

Time checks use a leeway (default 30 s) for clock skew.

**Keys and rotation.** Identity publishes its public keys as a JWKS (OKP
Ed25519 or EC P-256 keys, ``use`` = ``sig``, each with a ``kid``; never a
private or symmetric key). Verifiers cache it for at most 5 minutes and
refresh early when a token names an unknown ``kid`` — at most once per
10 s per process, so a flood of made-up ``kid`` values cannot hammer
identity. Hence, for a rotation that refuses nobody: publish the new key
before signing with it (by the cache's ``max_age`` to be safe, or at least
so that every identity replica serves it before any signs with it), and keep
the old key published until the last token it signed has expired (max
lifetime + leeway). Withdrawing a key stops verifiers accepting it within
``max_age``.

**Refusals** raise :class:`~fieldvault_platform.errors.Unauthenticated` with one
of a few generic reasons — ``token invalid``, ``token expired``, ``token not
yet valid``, ``token not valid for this service``, ``token revoked`` — and never
the token or a claim. A token that verifies but lacks a scope or is for another
tenant raises :class:`~fieldvault_platform.errors.PermissionDenied` from
``Principal.require_scope`` / ``require_tenant``; a service serving a
resource maps the tenant case to *not found* (docs/security-model.md#tenancy). If no signing key was
ever obtained from identity, verification raises
:class:`~fieldvault_platform.errors.Unavailable` instead of refusing.

**Revocation.** Identity publishes ``user_deactivated`` (tokens of that user,
or acting for them, issued at or before ``occurred_at`` are refused),
``session_revoked`` (tokens of that session are refused) and
``api_client_revoked`` (tokens of that partner client, ``sub`` =
``client:<client_id>``, issued at or before ``occurred_at`` are refused) on
``fieldvault.<tenant>.identity.v1.<event>``, as ``fieldvault.identity.v1``
``UserDeactivated`` / ``SessionRevoked`` / ``ApiClientRevoked`` messages.
:class:`RevocationListener` applies them to the process's :class:`DenyList`.

**Step-up tokens** (:mod:`fieldvault_platform.auth.step_up`): identity's
short-lived proof that a user just passed a second factor for one action
(``typ`` ``step-up+jwt``, never an access token), checked with
``TokenVerifier.verify_step_up``.

Wiring, in a service's composition root::

    jwks = JwksCache(fetch_jwks_from_identity)
    deny_list = DenyList()
    verifier = TokenVerifier(jwks, issuer=settings.token_issuer,
                             audience="work_order", deny_list=deny_list)
    listener = RevocationListener(js, deny_list)   # run(stop_event) as a task
    principal = await verifier.verify(bearer_token)
    principal.require_scope("work_orders:write")
"""

from fieldvault_platform.auth.bearer import AUTHORIZATION_KEY, bearer_metadata, bearer_token
from fieldvault_platform.auth.contract import (
    ALLOWED_ALGORITHMS,
    AUDIENCES,
    DEFAULT_ISSUER,
    DEFAULT_LEEWAY,
    DEFAULT_MAX_TOKEN_LIFETIME,
    TOKEN_TYPE,
)
from fieldvault_platform.auth.deny_list import DenyList
from fieldvault_platform.auth.jwks import JwksCache, JwksFetch, VerificationKey, parse_jwks
from fieldvault_platform.auth.principal import Actor, Principal, PrincipalKind
from fieldvault_platform.auth.revocation import REVOCATION_SUBJECTS, RevocationListener
from fieldvault_platform.auth.step_up import BREAK_GLASS, STEP_UP_TOKEN_TYPE, STEP_UP_TTL_SECONDS
from fieldvault_platform.auth.verifier import TokenVerifier

__all__ = [
    "ALLOWED_ALGORITHMS",
    "AUDIENCES",
    "AUTHORIZATION_KEY",
    "BREAK_GLASS",
    "DEFAULT_ISSUER",
    "DEFAULT_LEEWAY",
    "DEFAULT_MAX_TOKEN_LIFETIME",
    "REVOCATION_SUBJECTS",
    "STEP_UP_TOKEN_TYPE",
    "STEP_UP_TTL_SECONDS",
    "TOKEN_TYPE",
    "Actor",
    "DenyList",
    "JwksCache",
    "JwksFetch",
    "Principal",
    "PrincipalKind",
    "RevocationListener",
    "TokenVerifier",
    "VerificationKey",
    "bearer_metadata",
    "bearer_token",
    "parse_jwks",
]
