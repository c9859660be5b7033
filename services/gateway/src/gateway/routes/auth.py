"""Signing in: login, refresh, logout, OAuth2 client credentials."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated
from urllib.parse import unquote_plus

import grpc
from fastapi import APIRouter, Form, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from fieldvault.identity.v1 import identity_pb2 as pb
from gateway.auth import Auth
from gateway.client_address import SourceAddress
from gateway.dependencies import AppSettings, IdentityPeer
from gateway.for_caller import IDENTITY, IdentityForCaller
from gateway.peers import PeerRpcError
from gateway.problems import Problem, error_code
from gateway.ratelimit import Limiter, check_login_account
from gateway.rest import NO_STORE, RequestBody

router = APIRouter(tags=["authentication"])


#: Token responses must never be cached by a browser or proxy (RFC 6749 §5.1).
class LoginRequest(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tenant": "acme-service",
                    "email": "dana@acme.example",
                    "password": "correct horse battery staple",
                }
            ]
        }
    )

    tenant: str = Field(min_length=1, max_length=63)
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    otp: str | None = Field(default=None, max_length=16)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str | None = None
    token_type: str = "Bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: int
    #: True when policy requires a second factor the user has not enrolled: the
    #: access token can only enrol one (``POST /v1/me/mfa/totp``); no refresh token.
    mfa_enrollment_required: bool = False


class RefreshRequest(RequestBody):
    refresh_token: str = Field(min_length=1, max_length=512)


class ClientToken(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: int
    scope: str


@router.post("/v1/auth/login", summary="Sign in with email and password (+ one-time code)")
async def login(
    body: LoginRequest,
    peer: IdentityPeer,
    source: SourceAddress,
    response: Response,
    limiter: Limiter,
    settings: AppSettings,
) -> TokenPair:
    # Per account here too, so a spray from many addresses is shed before identity
    # (whose own throttle, per account and source, is the one that must hold).
    await check_login_account(limiter, settings, tenant=body.tenant, email=body.email)
    stub = IDENTITY.stub(peer)
    result = await peer.call(
        stub.Login,
        pb.LoginRequest(
            tenant=body.tenant,
            email=body.email,
            password=body.password,
            otp=body.otp or "",
            source_address=source,
        ),
    )
    response.headers.update(NO_STORE)
    return TokenPair(
        access_token=result.access_token,
        refresh_token=result.refresh_token or None,
        token_type=result.token_type,
        expires_in=result.expires_in,
        mfa_enrollment_required=result.mfa_enrollment_required,
    )


@router.post("/v1/auth/refresh", summary="Exchange a refresh token for a new pair")
async def refresh(
    body: RefreshRequest, peer: IdentityPeer, source: SourceAddress, response: Response
) -> TokenPair:
    stub = IDENTITY.stub(peer)
    result = await peer.call(
        stub.Refresh, pb.RefreshRequest(refresh_token=body.refresh_token, source_address=source)
    )
    response.headers.update(NO_STORE)
    return TokenPair(
        access_token=result.access_token,
        refresh_token=result.refresh_token,
        token_type=result.token_type,
        expires_in=result.expires_in,
    )


@router.post("/v1/auth/logout", status_code=204, summary="End this session")
async def logout(identity: IdentityForCaller, auth: Auth) -> Response:
    await identity.call(identity.stub.Logout, pb.LogoutRequest())
    auth.forget(identity.caller.principal)
    return Response(status_code=204)


@router.post(
    "/v1/auth/logout-everywhere",
    status_code=204,
    summary="End every session of my account (a lost phone)",
)
async def logout_everywhere(identity: IdentityForCaller, auth: Auth) -> Response:
    """The other sessions are refused within a second, when identity's revocation
    events reach every gateway's deny list."""
    await identity.call(identity.stub.Logout, pb.LogoutRequest(everywhere=True))
    auth.forget(identity.caller.principal)
    return Response(status_code=204)


# --- OAuth2 client credentials (RFC 6749 §4.4) --------------------------------
#
# Errors are problem+json like everywhere else, with ``code`` set to the RFC 6749
# §5.2 error code and the same value repeated in an ``error`` member, so both a
# fieldvault client and a stock OAuth2 library understand them.

#: RFC 6749 §5.2 error codes this endpoint answers with.
_OAUTH_ERRORS = frozenset({"invalid_request", "invalid_client", "invalid_scope"})
_MAX_FIELD = 1024


def _oauth_problem(
    status: int, error: str, detail: str, *, headers: dict[str, str] | None = None
) -> Problem:
    return Problem(
        status, error, detail, headers=NO_STORE | (headers or {}), extra={"error": error}
    )


def _invalid_client() -> Problem:
    # RFC 6749 §5.2: 401 with a challenge for the scheme clients authenticate with.
    return _oauth_problem(
        401,
        "invalid_client",
        "invalid client credentials",
        headers={"WWW-Authenticate": 'Basic realm="fieldvault"'},
    )


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    """Client id and secret from ``Authorization: Basic`` (RFC 6749 §2.3.1), if sent."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _invalid_client() from None
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        raise _invalid_client()
    # Both halves are form-urlencoded before encoding (§2.3.1).
    return unquote_plus(client_id), unquote_plus(secret)


@router.post(
    "/v1/oauth/token",
    summary="OAuth2 client credentials for partner systems",
    description=(
        "Form-encoded `grant_type=client_credentials`; client id and secret in the form "
        "or as HTTP Basic (not both); optional `scope` (space-separated, a subset of the "
        "client's). Errors are problem+json whose `code` — repeated as `error` — is the "
        "RFC 6749 error code: `invalid_request`, `invalid_client`, `invalid_scope`, "
        "`unsupported_grant_type`."
    ),
    responses={
        400: {"description": "invalid_request, invalid_scope or unsupported_grant_type"},
        401: {"description": "invalid_client"},
        429: {"description": "too many failed attempts; see Retry-After"},
    },
)
async def oauth_token(
    request: Request,
    peer: IdentityPeer,
    source: SourceAddress,
    response: Response,
    grant_type: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    scope: Annotated[str, Form()] = "",
) -> ClientToken:
    # Checked here rather than by the form model, so that a bad request is an
    # RFC 6749 ``invalid_request`` rather than a generic validation error.
    if not grant_type:
        raise _oauth_problem(400, "invalid_request", "grant_type is required")
    if any(len(value or "") > _MAX_FIELD for value in (client_id, client_secret, scope)):
        raise _oauth_problem(400, "invalid_request", "a form field is too long")
    if grant_type != "client_credentials":
        raise _oauth_problem(400, "unsupported_grant_type", "only client_credentials is supported")
    basic = _basic_credentials(request)
    if basic is not None:
        if client_secret is not None:
            raise _oauth_problem(
                400, "invalid_request", "send the client credentials one way only, not both"
            )
        if client_id is not None and client_id != basic[0]:
            raise _oauth_problem(400, "invalid_request", "client_id differs from the Basic one")
        client_id, client_secret = basic
    if not client_id or not client_secret:
        raise _invalid_client()
    stub = IDENTITY.stub(peer)
    try:
        result = await peer.call(
            stub.IssueClientToken,
            pb.IssueClientTokenRequest(
                client_id=client_id,
                client_secret=client_secret,
                scope=scope,
                source_address=source,
            ),
        )
    except PeerRpcError as exc:
        raise _as_oauth_error(exc) from None
    response.headers.update(NO_STORE)
    return ClientToken(
        access_token=result.access_token,
        token_type=result.token_type,
        expires_in=result.expires_in,
        scope=result.scope,
    )


def _as_oauth_error(exc: PeerRpcError) -> Exception:
    """Identity's refusal in RFC 6749 terms; anything else (429, 503) as usual."""
    status = exc.error.code()
    if status == grpc.StatusCode.UNAUTHENTICATED:
        return _invalid_client()
    code = error_code(exc.error)
    if status == grpc.StatusCode.INVALID_ARGUMENT and code in _OAUTH_ERRORS:
        return _oauth_problem(400, code, exc.error.details() or "invalid request")
    return exc
