"""Who to tell and where: identity's directory, asked with this service's own token.

Addresses are looked up when a message is sent and never stored here; an
invitation's link is fetched only to put it into the one email that carries it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import grpc

from fieldvault.identity.v1 import identity_pb2, identity_pb2_grpc
from fieldvault_platform.auth.wiring import ServiceTokens
from fieldvault_platform.errors import NotFound
from fieldvault_platform.grpc_client import PeerRefused
from fieldvault_platform.peer_client import PeerClient
from fieldvault_platform.timestamps import from_timestamp

DIRECTORY_READ = "directory:read"
PAGE_SIZE = 200
#: identity's answers for an invitation that is used, withdrawn or gone.
_CLOSED = frozenset({grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION})


@dataclass(frozen=True)
class Person:
    id: str
    email: str
    active: bool
    area_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class InvitationLink:
    url: str
    user_id: str
    expires: datetime | None


class Directory:
    def __init__(self, tokens: ServiceTokens, identity: grpc.aio.Channel) -> None:
        self._identity = PeerClient(tokens, audience="identity")
        self._stub = identity_pb2_grpc.IdentityServiceStub(identity)

    async def person(self, tenant_id: str, user_id: str) -> Person | None:
        """The person, or None when identity does not know them (any more)."""
        try:
            response = await self._identity.call(
                self._stub.GetUser,
                identity_pb2.GetUserRequest(id=user_id),
                scope=DIRECTORY_READ,
                tenant_id=tenant_id,
            )
        except PeerRefused as exc:
            if exc.status == grpc.StatusCode.NOT_FOUND:
                return None
            raise
        return _person(response.user)

    async def people(
        self, tenant_id: str, *, role: str, organization_id: str = ""
    ) -> AsyncIterator[Person]:
        """The active people of the tenant with ``role`` (in ``organization_id``, if given)."""
        page_token = ""
        while True:
            response = await self._identity.call(
                self._stub.ListUsers,
                identity_pb2.ListUsersRequest(
                    page_size=PAGE_SIZE,
                    page_token=page_token,
                    role=role,
                    organization_id=organization_id,
                    active_only=True,
                ),
                scope=DIRECTORY_READ,
                tenant_id=tenant_id,
                not_found=NotFound("tenant not found"),
            )
            for user in response.users:
                yield _person(user)
            page_token = response.next_page_token
            if not page_token:
                return

    async def invitation_link(self, tenant_id: str, invitation_id: str) -> InvitationLink | None:
        """The link to put into the invitation email; None once it is used or withdrawn."""
        try:
            response = await self._identity.call(
                self._stub.GetInvitationLink,
                identity_pb2.GetInvitationLinkRequest(
                    tenant_id=tenant_id, invitation_id=invitation_id
                ),
                scope="invitations:deliver",
                tenant_id=tenant_id,
            )
        except PeerRefused as exc:
            if exc.status in _CLOSED:
                return None
            raise
        expires = from_timestamp(response, "expire_time")
        return InvitationLink(url=response.url, user_id=response.user_id, expires=expires)


def _person(user: identity_pb2.User) -> Person:
    return Person(
        id=user.id,
        email=user.email,
        active=user.status == identity_pb2.USER_STATUS_ACTIVE,
        area_ids=frozenset(user.area_ids),
    )
