"""People of the tenant: invite, change, deactivate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, Field

from fieldvault.identity.v1 import identity_pb2 as pb
from gateway.identity_client import IdentityForCaller
from gateway.identity_models import NAME, Page, Role, User
from gateway.routes.areas import PageSize

router = APIRouter(tags=["users"])


class UserCreate(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    name: str = NAME
    roles: list[Role] = Field(min_length=1)
    #: Omitted: the tenant's own organisation.
    organization_id: str | None = None
    area_ids: list[str] = Field(default_factory=list)


class UserPatch(BaseModel):
    name: str | None = NAME
    roles: list[Role] | None = None
    organization_id: str | None = None
    area_ids: list[str] | None = None


class UserList(Page):
    items: list[User]


def _with_etag(response: Response, user: User) -> User:
    response.headers["ETag"] = user.etag
    return user


@router.get("/v1/users", summary="List users")
async def list_users(
    identity: IdentityForCaller, page_size: PageSize = 50, page_token: str = ""
) -> UserList:
    result = await identity.call(
        identity.stub.ListUsers, pb.ListUsersRequest(page_size=page_size, page_token=page_token)
    )
    return UserList(
        items=[User.of(u) for u in result.users], next_page_token=result.next_page_token
    )


@router.post(
    "/v1/users",
    status_code=201,
    summary="Create a user; they are invited to set their own password",
)
async def create_user(body: UserCreate, identity: IdentityForCaller, response: Response) -> User:
    result = await identity.call(
        identity.stub.CreateUser,
        pb.CreateUserRequest(
            email=body.email,
            name=body.name,
            roles=list(body.roles),
            organization_id=body.organization_id or "",
            area_ids=body.area_ids,
        ),
    )
    return _with_etag(response, User.of(result.user))


@router.get("/v1/users/{user_id}", summary="One user")
async def get_user(user_id: str, identity: IdentityForCaller, response: Response) -> User:
    result = await identity.call(identity.stub.GetUser, pb.GetUserRequest(id=user_id))
    return _with_etag(response, User.of(result.user))


@router.patch(
    "/v1/users/{user_id}",
    summary="Change name, roles, organisation or areas (reductions end their sessions)",
)
async def update_user(
    user_id: str,
    body: UserPatch,
    identity: IdentityForCaller,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> User:
    result = await identity.call(
        identity.stub.UpdateUser,
        pb.UpdateUserRequest(
            id=user_id,
            update_mask=sorted(body.model_fields_set),
            name=body.name or "",
            roles=list(body.roles or []),
            organization_id=body.organization_id or "",
            area_ids=list(body.area_ids or []),
            etag=if_match or "",
        ),
    )
    return _with_etag(response, User.of(result.user))


@router.post(
    "/v1/users/{user_id}/deactivate",
    summary="Deactivate: sessions, tokens and grants stop working within a second",
)
async def deactivate_user(user_id: str, identity: IdentityForCaller, response: Response) -> User:
    result = await identity.call(identity.stub.DeactivateUser, pb.DeactivateUserRequest(id=user_id))
    return _with_etag(response, User.of(result.user))
