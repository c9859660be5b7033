"""IdentityService RPCs for signing in and tokens: proto ⇄ domain only."""

from __future__ import annotations

import json
from typing import TypeAlias

import grpc

from fieldvault.identity.v1 import identity_pb2 as pb
from fieldvault_platform.metrics import LOGINS, REVOCATIONS, TOKEN_EXCHANGES, counted
from identity.auth import account, delegation, step_up
from identity.auth.login import login, refresh
from identity.auth.tokens import BEARER
from identity.components import Components
from identity.messages import user_message

Context: TypeAlias = grpc.aio.ServicerContext


class AuthRpcs:
    _components: Components

    async def Login(self, request: pb.LoginRequest, context: Context) -> pb.LoginResponse:
        with counted(LOGINS):
            result = await login(
                self._components,
                tenant_slug=request.tenant,
                email=request.email,
                password=request.password,
                otp=request.otp,
                source_address=request.source_address,
            )
        return pb.LoginResponse(
            access_token=result.access.token,
            refresh_token=result.refresh_token or "",
            token_type=BEARER,
            expires_in=result.access.expires_in,
            mfa_enrollment_required=result.mfa_enrollment_required,
        )

    async def Refresh(self, request: pb.RefreshRequest, context: Context) -> pb.RefreshResponse:
        with counted(TOKEN_EXCHANGES, "refresh"):
            access, refresh_token = await refresh(
                self._components,
                refresh_token=request.refresh_token,
                source_address=request.source_address,
            )
        return pb.RefreshResponse(
            access_token=access.token,
            refresh_token=refresh_token,
            token_type=BEARER,
            expires_in=access.expires_in,
        )

    async def Logout(self, request: pb.LogoutRequest, context: Context) -> pb.LogoutResponse:
        principal = await self._components.callers.principal(context)
        await account.logout(self._components, principal, everywhere=request.everywhere)
        REVOCATIONS.labels("logout_everywhere" if request.everywhere else "logout").inc()
        return pb.LogoutResponse()

    async def IssueClientToken(
        self, request: pb.IssueClientTokenRequest, context: Context
    ) -> pb.IssueClientTokenResponse:
        with counted(TOKEN_EXCHANGES, "client_credentials"):
            issued = await delegation.client_token(
                self._components,
                client_id=request.client_id,
                client_secret=request.client_secret,
                scope=request.scope,
                source_address=request.source_address,
            )
        return pb.IssueClientTokenResponse(
            access_token=issued.token,
            token_type=BEARER,
            expires_in=issued.expires_in,
            scope=issued.scope,
        )

    async def IssueServiceToken(
        self, request: pb.IssueServiceTokenRequest, context: Context
    ) -> pb.IssueServiceTokenResponse:
        with counted(TOKEN_EXCHANGES, "service"):
            issued = await delegation.service_token(
                self._components,
                service=request.service,
                secret=request.secret,
                audience=request.audience,
                scope=request.scope,
                subject_token=request.subject_token,
                tenant_id=request.tenant_id,
            )
        return pb.IssueServiceTokenResponse(
            access_token=issued.token, expires_in=issued.expires_in, scope=issued.scope
        )

    async def ExchangeToken(
        self, request: pb.ExchangeTokenRequest, context: Context
    ) -> pb.ExchangeTokenResponse:
        with counted(TOKEN_EXCHANGES, "exchange"):
            issued = await delegation.exchange(
                self._components, subject_token=request.subject_token, audience=request.audience
            )
        return pb.ExchangeTokenResponse(access_token=issued.token, expires_in=issued.expires_in)

    async def IssueStepUpToken(
        self, request: pb.IssueStepUpTokenRequest, context: Context
    ) -> pb.IssueStepUpTokenResponse:
        principal = await self._components.callers.principal(context)
        with counted(TOKEN_EXCHANGES, "step_up"):
            issued = await step_up.issue_step_up_token(
                self._components,
                principal,
                purpose=request.purpose,
                otp=request.otp,
                site_id=request.site_id,
                secret_kind=request.secret_kind,
                source_address=request.source_address,
            )
        return pb.IssueStepUpTokenResponse(step_up_token=issued.token, expires_in=issued.expires_in)

    async def GetJwks(self, request: pb.GetJwksRequest, context: Context) -> pb.GetJwksResponse:
        return pb.GetJwksResponse(jwks_json=json.dumps(await self._components.signer.jwks()))

    async def GetMe(self, request: pb.GetMeRequest, context: Context) -> pb.GetMeResponse:
        principal = await self._components.callers.principal(context)
        user, area_ids = await account.me(self._components, principal)
        return pb.GetMeResponse(user=user_message(user, area_ids))

    async def ChangePassword(
        self, request: pb.ChangePasswordRequest, context: Context
    ) -> pb.ChangePasswordResponse:
        principal = await self._components.callers.principal(context)
        await account.change_password(
            self._components, principal, current=request.current_password, new=request.new_password
        )
        return pb.ChangePasswordResponse()

    async def EnrollTotp(
        self, request: pb.EnrollTotpRequest, context: Context
    ) -> pb.EnrollTotpResponse:
        principal = await self._components.callers.principal(context)
        secret, uri = await account.enrol_totp(self._components, principal)
        return pb.EnrollTotpResponse(secret=secret, otpauth_uri=uri)

    async def ConfirmTotp(
        self, request: pb.ConfirmTotpRequest, context: Context
    ) -> pb.ConfirmTotpResponse:
        principal = await self._components.callers.principal(context)
        user, area_ids = await account.confirm_totp(self._components, principal, code=request.code)
        return pb.ConfirmTotpResponse(user=user_message(user, area_ids))
