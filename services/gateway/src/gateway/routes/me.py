"""The signed-in user: profile, password, second factor."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from fieldvault.identity.v1 import identity_pb2 as pb
from gateway.for_caller import IdentityForCaller
from gateway.identity_models import User
from gateway.rest import NO_STORE, RequestBody

router = APIRouter(tags=["me"])


class Me(BaseModel):
    id: str
    tenant_id: str
    email: str
    name: str
    roles: list[str]
    organization_id: str
    area_ids: list[str]
    mfa_enabled: bool


class PasswordChange(RequestBody):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class TotpEnrolment(BaseModel):
    secret: str
    otpauth_uri: str


class TotpConfirmation(RequestBody):
    code: str = Field(min_length=6, max_length=8)


@router.get("/v1/me", summary="Who am I")
async def me(identity: IdentityForCaller) -> Me:
    user = (await identity.call(identity.stub.GetMe, pb.GetMeRequest())).user
    return Me(**User.of(user).model_dump(include=set(Me.model_fields)))


@router.post("/v1/me/password", status_code=204, summary="Change my password")
async def change_password(body: PasswordChange, identity: IdentityForCaller) -> Response:
    await identity.call(
        identity.stub.ChangePassword,
        pb.ChangePasswordRequest(
            current_password=body.current_password, new_password=body.new_password
        ),
    )
    return Response(status_code=204)


@router.post("/v1/me/mfa/totp", summary="Start enrolling an authenticator app")
async def enrol_totp(identity: IdentityForCaller, response: Response) -> TotpEnrolment:
    result = await identity.call(identity.stub.EnrollTotp, pb.EnrollTotpRequest())
    response.headers.update(NO_STORE)
    return TotpEnrolment(secret=result.secret, otpauth_uri=result.otpauth_uri)


@router.post("/v1/me/mfa/totp/confirm", summary="Confirm the authenticator with a code")
async def confirm_totp(body: TotpConfirmation, identity: IdentityForCaller) -> Me:
    user = (
        await identity.call(identity.stub.ConfirmTotp, pb.ConfirmTotpRequest(code=body.code))
    ).user
    return Me(**User.of(user).model_dump(include=set(Me.model_fields)))
