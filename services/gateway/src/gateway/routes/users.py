"""People of the tenant: invite, change, deactivate."""

from __future__ import annotations

from typing import Self

from fastapi import APIRouter, Response
from pydantic import Field, model_validator

from fieldvault.identity.v1 import identity_pb2 as pb
from fieldvault_platform import limits
from gateway.dependencies import IfMatch
from gateway.etags import with_etag
from gateway.for_caller import IdentityForCaller
from gateway.idempotency import RESPONSES as CREATE_RESPONSES
from gateway.idempotency import replayed_by_reading
from gateway.identity_models import NAME, Name, Role, User, etag_matches
from gateway.rest import Page, PageSize, RequestBody, precondition_failed

router = APIRouter(tags=["users"])


class UserCreate(RequestBody):
    email: str = Field(min_length=3, max_length=limits.EMAIL)
    name: str = NAME
    roles: list[Role] = Field(min_length=1)
    #: Omitted: the tenant's own organisation.
    organization_id: str | None = None
    area_ids: list[str] = Field(default_factory=list)


class UserPatch(RequestBody):
    """Only the fields present change. ``organization_id: null`` moves the user to the
    own organisation, ``area_ids: null`` clears the areas; ``name`` and ``roles`` cannot
    be null. Any other member (e.g. ``id`` or ``etag`` of a copy read earlier) is refused
    (422)."""

    name: Name | None = None
    roles: list[Role] | None = Field(default=None, min_length=1)
    organization_id: str | None = None
    area_ids: list[str] | None = None

    @model_validator(mode="after")
    def _required_fields_are_not_null(self) -> Self:
        for name in ("name", "roles"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        if not self.model_fields_set:
            raise ValueError("nothing to change: give name, roles, organization_id or area_ids")
        return self


class UserList(Page):
    items: list[User]


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
    dependencies=[replayed_by_reading("/v1/users/{id}")],
    responses=CREATE_RESPONSES,
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
    return with_etag(response, User.of(result.user))


@router.get("/v1/users/{user_id}", summary="One user")
async def get_user(user_id: str, identity: IdentityForCaller, response: Response) -> User:
    result = await identity.call(identity.stub.GetUser, pb.GetUserRequest(id=user_id))
    return with_etag(response, User.of(result.user))


@router.patch(
    "/v1/users/{user_id}",
    summary="Change name, roles, organisation or areas (reductions end their sessions)",
    responses={412: {"description": "If-Match is stale (precondition_failed)"}},
)
async def update_user(
    user_id: str,
    body: UserPatch,
    identity: IdentityForCaller,
    response: Response,
    etag: IfMatch,
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
            etag=etag,
        ),
    )
    return with_etag(response, User.of(result.user))


@router.post(
    "/v1/users/{user_id}/deactivate",
    summary="Deactivate: sessions, tokens and grants stop working within a second",
    responses={412: {"description": "If-Match is stale (precondition_failed)"}},
)
async def deactivate_user(
    user_id: str, identity: IdentityForCaller, response: Response, etag: IfMatch
) -> User:
    if etag:
        # Identity's DeactivateUser takes no etag: compare here. A change landing
        # between the read and the deactivation is not caught, which is harmless for
        # a one-way transition that ends every session whatever the user's state.
        current = await identity.call(identity.stub.GetUser, pb.GetUserRequest(id=user_id))
        if not etag_matches(etag, current.user.etag):
            raise precondition_failed()
    result = await identity.call(identity.stub.DeactivateUser, pb.DeactivateUserRequest(id=user_id))
    return with_etag(response, User.of(result.user))
