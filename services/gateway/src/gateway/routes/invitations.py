"""Accepting an invitation: the invitee sets their own password."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from fieldvault.identity.v1 import identity_pb2 as pb
from gateway.dependencies import IdentityPeer
from gateway.for_caller import IDENTITY
from gateway.identity_models import User
from gateway.rest import RequestBody

router = APIRouter(tags=["invitations"])


class InvitationAccept(RequestBody):
    token: str = Field(min_length=10, max_length=256)
    password: str = Field(min_length=1, max_length=1024)


class Accepted(BaseModel):
    user: User


@router.post("/v1/invitations/accept", summary="Set your password from an invitation")
async def accept_invitation(body: InvitationAccept, peer: IdentityPeer) -> Accepted:
    stub = IDENTITY.stub(peer)
    result = await peer.call(
        stub.AcceptInvitation, pb.AcceptInvitationRequest(token=body.token, password=body.password)
    )
    return Accepted(user=User.of(result.user))
