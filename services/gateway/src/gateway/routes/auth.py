"""Signing in: login, refresh, logout, OAuth2 client credentials, the JWKS."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from pydantic import BaseModel, Field

from fieldvault.identity.v1 import identity_pb2 as pb
from gateway.dependencies import IdentityPeer
from gateway.identity_client import IdentityForCaller, SourceAddress, identity_stub
from gateway.problems import Problem

router = APIRouter(tags=["authentication"])

#: Token responses must never be cached by a browser or proxy (RFC 6749 §5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class LoginRequest(BaseModel):
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


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=512)


class ClientToken(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: int
    scope: str


@router.post("/v1/auth/login", summary="Sign in with email and password (+ one-time code)")
async def login(
    body: LoginRequest, peer: IdentityPeer, source: SourceAddress, response: Response
) -> TokenPair:
    stub = identity_stub(peer)
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
    stub = identity_stub(peer)
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
async def logout(identity: IdentityForCaller) -> Response:
    await identity.call(identity.stub.Logout, pb.LogoutRequest())
    return Response(status_code=204)


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _invalid_client() from None
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        raise _invalid_client()
    return client_id, secret


def _invalid_client() -> Problem:
    return Problem(
        401, "invalid_client", "invalid client credentials", headers={"WWW-Authenticate": "Basic"}
    )


@router.post(
    "/v1/oauth/token",
    summary="OAuth2 client credentials for partner systems",
    description=(
        "Form-encoded `grant_type=client_credentials`; client id and secret in the form "
        "or as HTTP Basic; optional `scope` (space-separated, a subset of the client's)."
    ),
)
async def oauth_token(
    request: Request,
    peer: IdentityPeer,
    source: SourceAddress,
    response: Response,
    grant_type: Annotated[str, Form()],
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    scope: Annotated[str, Form()] = "",
) -> ClientToken:
    if grant_type != "client_credentials":
        raise Problem(400, "unsupported_grant_type", "only client_credentials is supported")
    basic = _basic_credentials(request)
    if basic is not None:
        client_id, client_secret = basic
    if not client_id or not client_secret:
        raise _invalid_client()
    stub = identity_stub(peer)
    result = await peer.call(
        stub.IssueClientToken,
        pb.IssueClientTokenRequest(
            client_id=client_id, client_secret=client_secret, scope=scope, source_address=source
        ),
    )
    response.headers.update(NO_STORE)
    return ClientToken(
        access_token=result.access_token,
        token_type=result.token_type,
        expires_in=result.expires_in,
        scope=result.scope,
    )


@router.get("/.well-known/jwks.json", summary="Public keys that verify fieldvault tokens")
async def jwks(peer: IdentityPeer) -> Response:
    stub = identity_stub(peer)
    result = await peer.call(stub.GetJwks, pb.GetJwksRequest())
    return Response(
        content=json.dumps(json.loads(result.jwks_json)),
        media_type="application/jwk-set+json",
        headers={"Cache-Control": "public, max-age=60"},
    )
