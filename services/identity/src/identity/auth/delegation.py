"""Tokens that are not a person's login: partner clients, service accounts, exchanges.

* **Client credentials** (OAuth2, RFC 6749 §4.4): a partner system's id and
  secret → a gateway token with the client's scopes (or fewer). The secret is
  checked against its keyed hash inside Vault; unknown ids cost the same
  Vault round trip and get the same ``invalid_client``; attempts are
  throttled like logins.
* **Service tokens**: a fieldvault service's own identity, narrowly scoped
  per audience (:data:`identity.scopes.SERVICE_ACCOUNT_SCOPES`), optionally
  on behalf of the user whose request it is serving (``act``, RFC 8693).
* **Exchange**: the gateway turns a caller's gateway token into one for the
  backend it is about to call — same caller and rights, narrower audience,
  never outliving the original.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import select

from fieldvault_platform.auth import AUDIENCES, Principal, PrincipalKind
from fieldvault_platform.errors import InvalidArgument, PermissionDenied, Unauthenticated
from identity import audit
from identity.auth.tokens import (
    EDGE_AUDIENCE,
    IssuedToken,
    client_claims,
    mint,
    service_claims,
)
from identity.callers import live_user
from identity.components import Components
from identity.keyed_hash import keyed_hash, keyed_hash_matches
from identity.models import ApiClient
from identity.scopes import SERVICE_ACCOUNT_SCOPES
from identity.throttling import account_key, record_result, reserve_attempt, source_key

INVALID_CLIENT = "invalid_client"
INVALID_SCOPE = "invalid_scope"
#: Audiences a gateway token may be exchanged for.
BACKEND_AUDIENCES = AUDIENCES - {EDGE_AUDIENCE}


def _requested_scopes(scope: str, allowed: frozenset[str]) -> frozenset[str]:
    requested = frozenset(scope.split())
    if not requested:
        return allowed
    if not requested <= allowed:
        # Naming what is allowed helps a partner developer; it reveals nothing secret.
        raise InvalidArgument(
            f"scope may only contain: {' '.join(sorted(allowed))}", code=INVALID_SCOPE
        )
    return requested


async def client_token(
    components: Components, *, client_id: str, client_secret: str, scope: str, source_address: str
) -> IssuedToken:
    database = components.database
    now = datetime.now(UTC)
    source = source_address or "unknown"
    async with database.unit_of_work() as session:
        decision = await reserve_attempt(
            session,
            account_key=account_key(tenant_id="oauth-client", email=client_id),
            source_key=source_key(source),
            now=now,
        )
    failure = audit.AuditEntry(
        tenant_id=None,
        actor="",
        action="client.token",
        outcome=audit.FAILURE,
        source_address=source,
        detail=INVALID_CLIENT,
    )
    if not decision.allowed:
        await audit.record_failure(database, replace(failure, detail="rate_limited"))
        decision.raise_if_denied()
    async with database.unit_of_work() as session:
        client = await session.scalar(
            select(ApiClient).where(
                ApiClient.client_id == client_id, ApiClient.revoked_at.is_(None)
            )
        )
    if client is None:
        # The same Vault round trip as a real check, so timing does not tell.
        await keyed_hash(components.vault, "api_client_secret", client_secret)
        matches = False
    else:
        matches = await keyed_hash_matches(
            components.vault, "api_client_secret", client_secret, client.secret_hash
        )
    if client is None or not matches:
        await audit.record_failure(database, failure)
        raise Unauthenticated("invalid client credentials", code=INVALID_CLIENT)
    scopes = _requested_scopes(scope, frozenset(client.scopes))
    async with database.unit_of_work() as session:
        await record_result(session, decision=decision, success=True)
        audit.record(
            session,
            audit.AuditEntry(
                tenant_id=client.tenant_id,
                actor=f"client:{client.client_id}",
                action="client.token",
                target_id=client.id,
                source_address=source,
            ),
            at=now,
        )
    return await mint(
        components.signer,
        client_claims(client_id=client.client_id, tenant_id=client.tenant_id, scopes=scopes),
        audience=EDGE_AUDIENCE,
        ttl_seconds=components.settings.access_token_ttl_seconds,
        now=now,
    )


def _service_secret_matches(components: Components, service: str, secret: str) -> bool:
    expected = components.settings.service_account_secrets_sha256.get(service)
    digest = hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()
    # Compare even when the service is unknown: no timing difference between the cases.
    return hmac.compare_digest(digest, expected or "0" * 64) and expected is not None


async def service_token(
    components: Components,
    *,
    service: str,
    secret: str,
    audience: str,
    scope: str,
    subject_token: str,
    tenant_id: str,
) -> IssuedToken:
    now = datetime.now(UTC)
    if not _service_secret_matches(components, service, secret):
        await audit.record_failure(
            components.database,
            audit.AuditEntry(
                tenant_id=None,
                actor=f"service:{service}"[:100],
                action="service.token",
                outcome=audit.FAILURE,
                detail=INVALID_CLIENT,
            ),
        )
        raise Unauthenticated("invalid service credentials", code=INVALID_CLIENT)
    allowed = SERVICE_ACCOUNT_SCOPES.get(service, {}).get(audience)
    if not allowed:
        raise PermissionDenied(f"service {service} may not call {audience}", code=INVALID_SCOPE)
    scopes = _requested_scopes(scope, allowed)
    actor = None
    not_after = None
    if subject_token:
        if service not in AUDIENCES:
            raise PermissionDenied("this service cannot act on behalf of users")
        user_principal = await components.callers.verify(subject_token, audience=service)
        async with components.database.unit_of_work() as session:
            await live_user(session, user_principal)
        actor = {
            "sub": user_principal.subject,
            "tid": user_principal.tenant_id,
            "roles": sorted(user_principal.roles),
        }
        if user_principal.session_id:
            actor["sid"] = user_principal.session_id
        tenant_id = user_principal.tenant_id or ""
        not_after = int(user_principal.expires_at.timestamp())
    return await mint(
        components.signer,
        service_claims(service=service, scopes=scopes, tenant_id=tenant_id or None, actor=actor),
        audience=audience,
        ttl_seconds=components.settings.access_token_ttl_seconds,
        now=now,
        not_after=not_after,
    )


async def exchange(components: Components, *, subject_token: str, audience: str) -> IssuedToken:
    if audience not in BACKEND_AUDIENCES:
        raise InvalidArgument(
            f"audience must be one of: {' '.join(sorted(BACKEND_AUDIENCES))}", code="invalid_target"
        )
    principal = await components.callers.verify(subject_token, audience=EDGE_AUDIENCE)
    await _ensure_still_valid(components, principal)
    return await mint(
        components.signer,
        _claims_of(principal),
        audience=audience,
        ttl_seconds=components.settings.access_token_ttl_seconds,
        now=datetime.now(UTC),
        not_after=int(principal.expires_at.timestamp()),
    )


async def _ensure_still_valid(components: Components, principal: Principal) -> None:
    async with components.database.unit_of_work() as session:
        if principal.kind is PrincipalKind.USER:
            await live_user(session, principal)
        elif principal.kind is PrincipalKind.CLIENT:
            live_client = await session.scalar(
                select(ApiClient.id).where(
                    ApiClient.client_id == principal.name, ApiClient.revoked_at.is_(None)
                )
            )
            if live_client is None:
                raise Unauthenticated("token revoked")
        else:
            raise PermissionDenied("service tokens are not exchanged")


def _claims_of(principal: Principal) -> dict[str, object]:
    claims: dict[str, object] = {
        "sub": principal.subject,
        "roles": sorted(principal.roles),
        "areas": sorted(principal.area_ids),
        "scope": " ".join(sorted(principal.scopes)),
    }
    for name, value in (
        ("tid", principal.tenant_id),
        ("org", principal.organization_id),
        ("sid", principal.session_id),
    ):
        if value is not None:
            claims[name] = value
    if principal.amr:
        claims["amr"] = list(principal.amr)
    return claims
