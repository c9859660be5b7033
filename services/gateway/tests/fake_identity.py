"""A stand-in for identity's gRPC API, for the gateway's own tests.

It speaks the real contract (``IdentityService`` on a real grpc.aio server with
the services' error interceptor), signs real Ed25519 access tokens that the
gateway verifies from its JWKS, and records every request with its metadata so
a test can see exactly what the gateway forwarded. The end-to-end tests in
``test_identity_flows.py`` run the real identity instead.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import FastAPI
from google.protobuf.message import Message

from fieldvault.identity.v1 import identity_pb2 as pb
from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_platform.auth.contract import DEFAULT_ISSUER
from fieldvault_platform.errors import (
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)

from .fake_common import Call, bearer_claims, now, record

TENANT = "tenant-1"
USER = "user-1"
ORGANIZATION = "org-own"
#: The one client secret the fake accepts.
CLIENT_ID = "fvc_partner"
CLIENT_SECRET = "CANARY-client-secret+/=9f2"
OPERATOR_TOKEN = "CANARY-operator-token-77aa"
#: The one-time code the fake's step-up accepts.
STEP_UP_CODE = "246810"
#: The gateway-audience tokens the gateway presents for exchange.
AUDIENCE = "gateway"
#: Who the caller is and what they may do: an exchanged token keeps these (a claim the
#: subject token lacks stays out of it too).
_CARRIED_CLAIMS = ("sub", "tid", "org", "roles", "areas", "scope", "sid", "amr")


class TooManyAttempts(DomainError):
    status = grpc.StatusCode.RESOURCE_EXHAUSTED
    code = "rate_limited"
    retry_after_seconds = 42


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class FakeIdentity(identity_pb2_grpc.IdentityServiceServicer):
    def __init__(self) -> None:
        self.key = ed25519.Ed25519PrivateKey.generate()
        self.kid = f"fake-{uuid.uuid4().hex[:8]}"
        self.calls: dict[str, list[Call]] = defaultdict(list)
        #: Lifetime of exchanged tokens, and a delay that lets requests overlap.
        self.exchange_ttl = 300
        self.exchange_delay = 0.0
        #: Refuse the next N exchanges (as identity does for a revoked session).
        self.refuse_exchanges = 0
        self.user_version = 1
        self.organization_version = 1

    # --- helpers for tests -----------------------------------------------------

    def mint(
        self, *, header: dict[str, Any] | None = None, private_key: Any = None, **claims: Any
    ) -> str:
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": DEFAULT_ISSUER,
            "sub": USER,
            "aud": "gateway",
            "exp": now + 300,
            "iat": now,
            "nbf": now,
            "jti": uuid.uuid4().hex,
            "tid": TENANT,
            "org": ORGANIZATION,
            "roles": ["admin"],
            "areas": [],
            "scope": "profile directory:admin",
            "sid": f"session-{uuid.uuid4().hex[:8]}",
            "amr": ["pwd", "otp"],
        }
        for name, value in claims.items():
            if value is None:
                body.pop(name, None)
            else:
                body[name] = value
        return jwt.encode(
            body,
            private_key or self.key,
            algorithm="EdDSA",
            headers={"kid": self.kid, "typ": "at+jwt", **(header or {})},
        )

    def requests(self, method: str) -> list[Any]:
        return [call.request for call in self.calls[method]]

    def _record(self, method: str, request: Message, context: Any) -> None:
        record(self.calls, method, request, context)

    def user(self, user_id: str = USER) -> pb.User:
        if user_id not in (USER, "user-2"):
            raise NotFound("no such user")
        return pb.User(
            id=user_id,
            tenant_id=TENANT,
            email=f"{user_id}@example.com",
            name="Ada",
            roles=["admin"],
            organization_id=ORGANIZATION,
            area_ids=["area-1"],
            status=pb.USER_STATUS_ACTIVE,
            mfa_enabled=True,
            create_time=now(),
            update_time=now(),
            etag=f'"{self.user_version}"',
        )

    def organization(self) -> pb.Organization:
        return pb.Organization(
            id="org-sub",
            tenant_id=TENANT,
            name="Sub Oy",
            kind=pb.ORGANIZATION_KIND_SUBCONTRACTOR,
            dpa_signed_on="2026-01-01",
            dpa_expires_on="2030-12-31",
            dpa_active=True,
            create_time=now(),
            update_time=now(),
            etag=f'"{self.organization_version}"',
        )

    @staticmethod
    def _check_etag(etag: str, version: int) -> None:
        if etag and etag.removeprefix("W/") != f'"{version}"':
            raise FailedPrecondition("the resource changed", code="precondition_failed")

    # --- the RPCs the gateway uses ---------------------------------------------

    async def GetJwks(self, request: pb.GetJwksRequest, context: Any) -> pb.GetJwksResponse:
        raw = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw), "kid": self.kid, "use": "sig"}
        return pb.GetJwksResponse(jwks_json=json.dumps({"keys": [jwk]}))

    async def ExchangeToken(
        self, request: pb.ExchangeTokenRequest, context: Any
    ) -> pb.ExchangeTokenResponse:
        self._record("ExchangeToken", request, context)
        if self.exchange_delay:
            await asyncio.sleep(self.exchange_delay)
        if self.refuse_exchanges:
            self.refuse_exchanges -= 1
            raise Unauthenticated("token revoked")
        # Same caller, same rights: the subject token's claims, addressed to the audience.
        subject = bearer_claims(
            {"authorization": f"Bearer {request.subject_token}"}, self.key.public_key(), AUDIENCE
        )
        carried = {name: subject.get(name) for name in _CARRIED_CLAIMS}
        return pb.ExchangeTokenResponse(
            access_token=self.mint(
                aud=request.audience, exp=int(time.time()) + self.exchange_ttl, **carried
            ),
            expires_in=self.exchange_ttl,
        )

    async def Login(self, request: pb.LoginRequest, context: Any) -> pb.LoginResponse:
        self._record("Login", request, context)
        if request.email == "throttled@example.com":
            raise TooManyAttempts("too many login attempts; try again in 42 seconds")
        if request.password != "right password here":
            raise Unauthenticated("invalid tenant, email or password", code="invalid_credentials")
        if request.email == "new-admin@example.com":
            return pb.LoginResponse(
                access_token=self.mint(scope="mfa:enroll"),
                token_type="Bearer",
                expires_in=300,
                mfa_enrollment_required=True,
            )
        return pb.LoginResponse(
            access_token=self.mint(),
            refresh_token="CANARY-refresh-token",
            token_type="Bearer",
            expires_in=300,
        )

    async def Refresh(self, request: pb.RefreshRequest, context: Any) -> pb.RefreshResponse:
        self._record("Refresh", request, context)
        return pb.RefreshResponse(
            access_token=self.mint(), refresh_token="next", token_type="Bearer", expires_in=300
        )

    async def Logout(self, request: pb.LogoutRequest, context: Any) -> pb.LogoutResponse:
        self._record("Logout", request, context)
        return pb.LogoutResponse()

    async def IssueClientToken(
        self, request: pb.IssueClientTokenRequest, context: Any
    ) -> pb.IssueClientTokenResponse:
        self._record("IssueClientToken", request, context)
        if request.client_id == "throttled":
            raise TooManyAttempts("too many attempts")
        if (request.client_id, request.client_secret) != (CLIENT_ID, CLIENT_SECRET):
            raise Unauthenticated("invalid client credentials", code="invalid_client")
        if request.scope not in ("", "work_orders:read"):
            raise InvalidArgument("scope may only contain: work_orders:read", code="invalid_scope")
        return pb.IssueClientTokenResponse(
            access_token=self.mint(sub=f"client:{CLIENT_ID}", sid=None, roles=[]),
            token_type="Bearer",
            expires_in=300,
            scope="work_orders:read",
        )

    async def IssueStepUpToken(
        self, request: pb.IssueStepUpTokenRequest, context: Any
    ) -> pb.IssueStepUpTokenResponse:
        """The tenant's policy asks for a code; this fake accepts only ``STEP_UP_CODE``."""
        self._record("IssueStepUpToken", request, context)
        if not request.otp:
            raise PermissionDenied("break-glass needs a code", code="step_up_required")
        if request.otp != STEP_UP_CODE:
            raise PermissionDenied("the code is not valid", code="invalid_otp")
        return pb.IssueStepUpTokenResponse(
            step_up_token=f"step-up-for-{request.site_id}-{request.secret_kind}", expires_in=60
        )

    async def GetMe(self, request: pb.GetMeRequest, context: Any) -> pb.GetMeResponse:
        self._record("GetMe", request, context)
        return pb.GetMeResponse(user=self.user())

    async def ChangePassword(
        self, request: pb.ChangePasswordRequest, context: Any
    ) -> pb.ChangePasswordResponse:
        self._record("ChangePassword", request, context)
        return pb.ChangePasswordResponse()

    async def CreateTenant(
        self, request: pb.CreateTenantRequest, context: Any
    ) -> pb.CreateTenantResponse:
        self._record("CreateTenant", request, context)
        if self.calls["CreateTenant"][-1].metadata.get("authorization") != (
            f"Bearer {OPERATOR_TOKEN}"
        ):
            raise Unauthenticated("operator token invalid")
        return pb.CreateTenantResponse(
            tenant=pb.Tenant(id=TENANT, slug=request.slug, name=request.name, create_time=now()),
            admin_user=self.user(),
            admin_invitation_url="https://fieldvault.example/invite#token=CANARY-invitation",
        )

    async def GetUser(self, request: pb.GetUserRequest, context: Any) -> pb.GetUserResponse:
        self._record("GetUser", request, context)
        return pb.GetUserResponse(user=self.user(request.id))

    async def UpdateUser(
        self, request: pb.UpdateUserRequest, context: Any
    ) -> pb.UpdateUserResponse:
        self._record("UpdateUser", request, context)
        self._check_etag(request.etag, self.user_version)
        self.user_version += 1
        return pb.UpdateUserResponse(user=self.user(request.id))

    async def DeactivateUser(
        self, request: pb.DeactivateUserRequest, context: Any
    ) -> pb.DeactivateUserResponse:
        self._record("DeactivateUser", request, context)
        self.user_version += 1
        user = self.user(request.id)
        user.status = pb.USER_STATUS_DEACTIVATED
        return pb.DeactivateUserResponse(user=user)

    async def GetOrganization(
        self, request: pb.GetOrganizationRequest, context: Any
    ) -> pb.GetOrganizationResponse:
        self._record("GetOrganization", request, context)
        return pb.GetOrganizationResponse(organization=self.organization())

    async def UpdateOrganization(
        self, request: pb.UpdateOrganizationRequest, context: Any
    ) -> pb.UpdateOrganizationResponse:
        self._record("UpdateOrganization", request, context)
        self._check_etag(request.etag, self.organization_version)
        self.organization_version += 1
        return pb.UpdateOrganizationResponse(organization=self.organization())


@dataclass
class FakeGateway:
    client: httpx.AsyncClient
    app: FastAPI
    identity: FakeIdentity

    def bearer(self, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.identity.mint(**claims)}"}


@asynccontextmanager
async def fake_gateway(
    start_peer: Any, *, client: tuple[str, int] = ("127.0.0.1", 123), **overrides: Any
) -> AsyncIterator[FakeGateway]:
    from gateway.main import create_app

    from .conftest import PEER_NAMES, serve, settings_for

    identity = FakeIdentity()
    server = await start_peer(
        "identity",
        register=lambda s: identity_pb2_grpc.add_IdentityServiceServicer_to_server(identity, s),
    )
    app = create_app(settings_for(dict.fromkeys(PEER_NAMES, server.address), **overrides))
    async with serve(app, client=client) as http:
        yield FakeGateway(http, app, identity)
