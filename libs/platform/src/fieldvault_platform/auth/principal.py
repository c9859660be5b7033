"""Who a verified token speaks for: :class:`Principal`, built from its claims.

Parsing is strict: a claim of the wrong type, or a combination the contract
does not allow (a user token without a tenant, an actor on a user token), is
an invalid token rather than something to guess around, because a lenient
reading of a security claim is how a token comes to mean more than its
issuer said.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from fieldvault_platform.auth.contract import CLIENT_SUBJECT_PREFIX, SERVICE_SUBJECT_PREFIX
from fieldvault_platform.errors import PermissionDenied


class PrincipalKind(StrEnum):
    USER = "user"
    #: A partner system using OAuth2 client credentials (``sub`` = ``client:<id>``).
    CLIENT = "client"
    #: A fieldvault service calling another one (``sub`` = ``service:<name>``).
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class Actor:
    """The user an on-behalf-of service token acts for (RFC 8693 ``act``)."""

    user_id: str
    tenant_id: str
    roles: frozenset[str]
    #: The user's session, when the call started from one; revoking it revokes this too.
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified caller. Everything here comes from a signature-checked token."""

    #: The ``sub`` claim as issued: a user id, ``client:<id>`` or ``service:<name>``.
    subject: str
    kind: PrincipalKind
    #: None only for tenant-agnostic service tokens.
    tenant_id: str | None
    organization_id: str | None
    roles: frozenset[str]
    area_ids: frozenset[str]
    scopes: frozenset[str]
    session_id: str | None
    token_id: str
    audience: str
    issued_at: datetime
    expires_at: datetime
    #: Authentication methods of the login (``pwd``, ``otp``), in token order.
    amr: tuple[str, ...] = ()
    actor: Actor | None = None

    @property
    def name(self) -> str:
        """The subject without its kind prefix: user id, client id or service name."""
        if self.kind is PrincipalKind.CLIENT:
            return self.subject.removeprefix(CLIENT_SUBJECT_PREFIX)
        if self.kind is PrincipalKind.SERVICE:
            return self.subject.removeprefix(SERVICE_SUBJECT_PREFIX)
        return self.subject

    @property
    def acting_user_id(self) -> str | None:
        """The human behind the call, for audit: the user, or the actor of a service token."""
        if self.kind is PrincipalKind.USER:
            return self.subject
        return self.actor.user_id if self.actor is not None else None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def require_scope(self, *scopes: str) -> None:
        """Raise PermissionDenied unless the token carries every one of ``scopes``."""
        missing = sorted(set(scopes) - self.scopes)
        if missing:
            # Scope names are the service's own constants, not caller data: naming
            # them tells a partner developer what to ask for.
            raise PermissionDenied(f"token lacks the required scope: {' '.join(missing)}")

    def require_tenant(self, tenant_id: str, *, allow_tenant_agnostic: bool = False) -> None:
        """Raise PermissionDenied unless the token is for ``tenant_id``.

        Callers serving a resource map this to *not found* (docs/security-model.md#tenancy: another
        tenant's object answers 404, never 403) — the verifier cannot, because
        only the caller knows whether it was looking up an object. A
        tenant-agnostic service token passes only where the caller says so
        with ``allow_tenant_agnostic``.
        """
        if self.tenant_id == tenant_id:
            return
        if self.tenant_id is None and allow_tenant_agnostic:
            return
        raise PermissionDenied("token not valid for this tenant")


class InvalidClaims(ValueError):
    """The claims break the contract; the verifier turns this into 'token invalid'.

    Messages name the claim, never its value, so that even a debug log of one
    cannot carry token content.
    """


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """Build the Principal from signature-checked, time-checked claims."""
    subject = _string(claims, "sub")
    kind = _kind(subject)
    tenant_id = _optional_string(claims, "tid")
    session_id = _optional_string(claims, "sid")
    actor = _actor(claims.get("act"))
    _timestamp(claims, "nbf")  # checked for its type only; the verifier compared it
    if kind is not PrincipalKind.SERVICE and tenant_id is None:
        raise InvalidClaims("tid is required for user and client tokens")
    if kind is PrincipalKind.USER and session_id is None:
        raise InvalidClaims("sid is required for user tokens")
    if actor is not None:
        if kind is not PrincipalKind.SERVICE:
            raise InvalidClaims("act is only allowed on service tokens")
        if actor.tenant_id != tenant_id:
            # An on-behalf-of token is scoped to its user's tenant; a mismatch
            # would let a service carry one tenant's user into another.
            raise InvalidClaims("act.tid must equal tid")
    return Principal(
        subject=subject,
        kind=kind,
        tenant_id=tenant_id,
        organization_id=_optional_string(claims, "org"),
        roles=frozenset(_string_list(claims, "roles")),
        area_ids=frozenset(_string_list(claims, "areas")),
        scopes=frozenset(_scope(claims)),
        session_id=session_id,
        token_id=_string(claims, "jti"),
        audience=_string(claims, "aud"),
        issued_at=_timestamp(claims, "iat"),
        expires_at=_timestamp(claims, "exp"),
        amr=tuple(_string_list(claims, "amr")),
        actor=actor,
    )


def _kind(subject: str) -> PrincipalKind:
    for prefix, kind in (
        (CLIENT_SUBJECT_PREFIX, PrincipalKind.CLIENT),
        (SERVICE_SUBJECT_PREFIX, PrincipalKind.SERVICE),
    ):
        if subject.startswith(prefix):
            if len(subject) == len(prefix):
                raise InvalidClaims("sub names no client or service")
            return kind
    if ":" in subject:
        # User ids never contain ':'; an unknown prefix is not silently a user.
        raise InvalidClaims("sub has an unknown kind prefix")
    return PrincipalKind.USER


def _actor(value: object) -> Actor | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidClaims("act must be an object")
    if "act" in value:
        # Delegation chains are not part of the contract: one hop, service for user.
        raise InvalidClaims("nested act is not allowed")
    user_id = _string(value, "act.sub", key="sub")
    if ":" in user_id:
        raise InvalidClaims("act.sub must be a user")
    tenant_id = _string(value, "act.tid", key="tid")
    return Actor(
        user_id=user_id,
        tenant_id=tenant_id,
        roles=frozenset(_string_list(value, "act.roles", key="roles")),
        session_id=_optional_string(value, "act.sid", key="sid"),
    )


def _string(claims: Mapping[str, Any], name: str, *, key: str | None = None) -> str:
    value = claims.get(key or name)
    if not isinstance(value, str) or not value:
        raise InvalidClaims(f"{name} must be a non-empty string")
    return value


def _optional_string(claims: Mapping[str, Any], name: str, *, key: str | None = None) -> str | None:
    if claims.get(key or name) is None:
        return None
    return _string(claims, name, key=key)


def _string_list(claims: Mapping[str, Any], name: str, *, key: str | None = None) -> list[str]:
    value = claims.get(key or name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise InvalidClaims(f"{name} must be a list of non-empty strings")
    return value


def _scope(claims: Mapping[str, Any]) -> list[str]:
    value = claims.get("scope", "")
    if not isinstance(value, str):
        raise InvalidClaims("scope must be a space-separated string")
    return value.split()


def _timestamp(claims: Mapping[str, Any], name: str) -> datetime:
    value = claims.get(name)
    # bool is an int in Python; a JSON true is not a NumericDate.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidClaims(f"{name} must be a NumericDate")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):  # NaN, infinity, year 10000
        raise InvalidClaims(f"{name} is out of range") from None
