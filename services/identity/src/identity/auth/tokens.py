"""Minting access tokens to the contract of :mod:`fieldvault_platform.auth`.

Every token identity issues goes through :func:`mint`, which adds the
registered claims (``aud``, ``iat``, ``nbf``, ``exp``, ``jti``) the same way
for users, partner clients and services; the callers only say who the token
is for and what it may do.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.auth.contract import (
    CLIENT_SUBJECT_PREFIX,
    SERVICE_SUBJECT_PREFIX,
    TOKEN_TYPE,
)
from identity.models import User, UserArea
from identity.signing import TokenSigner

#: ``token_type`` of every token response (RFC 6750).
BEARER = "Bearer"
#: The audience of tokens handed to people and partner systems: they call the gateway.
EDGE_AUDIENCE = "gateway"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    #: Seconds until it expires, as ``expires_in`` of OAuth2 responses.
    expires_in: int
    expires_at: int
    scope: str


async def mint(
    signer: TokenSigner,
    claims: Mapping[str, Any],
    *,
    audience: str,
    ttl_seconds: int,
    now: datetime,
    not_after: int | None = None,
    token_type: str = TOKEN_TYPE,
) -> IssuedToken:
    """Sign ``claims`` for ``audience``, valid from now for ``ttl_seconds``.

    ``not_after`` caps the expiry (a token derived from another one never
    outlives it); ``token_type`` is the JOSE ``typ`` (an access token by default).
    """
    issued_at = int(now.timestamp())
    expires_at = issued_at + ttl_seconds
    if not_after is not None:
        expires_at = min(expires_at, not_after)
    token = await signer.sign(
        {
            **claims,
            "aud": audience,
            "iat": issued_at,
            "nbf": issued_at,
            "exp": expires_at,
            "jti": uuid.uuid4().hex,
        },
        token_type=token_type,
    )
    return IssuedToken(token, max(expires_at - issued_at, 0), expires_at, claims.get("scope", ""))


def scope_claim(scopes: Iterable[str]) -> str:
    return " ".join(sorted(scopes))


def user_claims(
    user: User,
    *,
    area_ids: Iterable[str],
    session_id: str,
    amr: Iterable[str],
    scopes: Iterable[str],
) -> dict[str, Any]:
    return {
        "sub": user.id,
        "tid": user.tenant_id,
        "org": user.organization_id,
        "roles": sorted(user.roles),
        "areas": sorted(area_ids),
        "scope": scope_claim(scopes),
        "sid": session_id,
        "amr": list(amr),
    }


def client_claims(*, client_id: str, tenant_id: str, scopes: Iterable[str]) -> dict[str, Any]:
    return {
        "sub": f"{CLIENT_SUBJECT_PREFIX}{client_id}",
        "tid": tenant_id,
        "roles": [],
        "areas": [],
        "scope": scope_claim(scopes),
    }


def service_claims(
    *, service: str, scopes: Iterable[str], tenant_id: str | None, actor: Mapping[str, Any] | None
) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "sub": f"{SERVICE_SUBJECT_PREFIX}{service}",
        "roles": [],
        "areas": [],
        "scope": scope_claim(scopes),
    }
    if tenant_id:
        claims["tid"] = tenant_id
    if actor is not None:
        claims["act"] = dict(actor)
    return claims


async def user_area_ids(session: AsyncSession, user_id: str) -> list[str]:
    rows = await session.scalars(select(UserArea.area_id).where(UserArea.user_id == user_id))
    return sorted(rows.all())
