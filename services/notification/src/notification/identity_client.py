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
from fieldvault_platform.auth import bearer_metadata
from fieldvault_platform.auth.wiring import ServiceTokens
from fieldvault_platform.errors import NotFound
from fieldvault_platform.grpc_client import peer_error
from fieldvault_platform.timestamps import from_timestamp

CALL_TIMEOUT_SECONDS = 5.0
PAGE_SIZE = 200


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
        self._tokens = tokens
        self._identity = identity_pb2_grpc.IdentityServiceStub(identity)

    async def _metadata(self, scope: str, tenant_id: str) -> tuple[tuple[str, str]]:
        token = await self._tokens.token(audience="identity", scope=scope, tenant_id=tenant_id)
        return bearer_metadata(token)

    async def person(self, tenant_id: str, user_id: str) -> Person | None:
        """The person, or None when identity does not know them (any more)."""
        metadata = await self._metadata("directory:read", tenant_id)
        try:
            response = await self._identity.GetUser(
                identity_pb2.GetUserRequest(id=user_id),
                metadata=metadata,
                timeout=CALL_TIMEOUT_SECONDS,
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise peer_error(exc, "identity", NotFound("person not found")) from exc
        return _person(response.user)

    async def people(
        self, tenant_id: str, *, role: str, organization_id: str = ""
    ) -> AsyncIterator[Person]:
        """The active people of the tenant with ``role`` (in ``organization_id``, if given)."""
        metadata = await self._metadata("directory:read", tenant_id)
        page_token = ""
        while True:
            try:
                response = await self._identity.ListUsers(
                    identity_pb2.ListUsersRequest(
                        page_size=PAGE_SIZE,
                        page_token=page_token,
                        role=role,
                        organization_id=organization_id,
                        active_only=True,
                    ),
                    metadata=metadata,
                    timeout=CALL_TIMEOUT_SECONDS,
                )
            except grpc.aio.AioRpcError as exc:
                raise peer_error(exc, "identity", NotFound("tenant not found")) from exc
            for user in response.users:
                yield _person(user)
            page_token = response.next_page_token
            if not page_token:
                return

    async def invitation_link(self, tenant_id: str, invitation_id: str) -> InvitationLink | None:
        """The link to put into the invitation email; None once it is used or withdrawn."""
        metadata = await self._metadata("invitations:deliver", tenant_id)
        try:
            response = await self._identity.GetInvitationLink(
                identity_pb2.GetInvitationLinkRequest(
                    tenant_id=tenant_id, invitation_id=invitation_id
                ),
                metadata=metadata,
                timeout=CALL_TIMEOUT_SECONDS,
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION):
                return None
            raise peer_error(exc, "identity", NotFound("invitation not found")) from exc
        expires = from_timestamp(response, "expire_time")
        return InvitationLink(url=response.url, user_id=response.user_id, expires=expires)


def _person(user: identity_pb2.User) -> Person:
    return Person(
        id=user.id,
        email=user.email,
        active=user.status == identity_pb2.USER_STATUS_ACTIVE,
        area_ids=frozenset(user.area_ids),
    )
