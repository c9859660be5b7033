"""The peer client against a real grpc.aio server: token, deadline and what a failure means."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc
import pytest

from fieldvault.identity.v1 import identity_pb2, identity_pb2_grpc
from fieldvault_platform.errors import NotFound, Unavailable
from fieldvault_platform.grpc_client import PeerRefused
from fieldvault_platform.peer_client import PeerClient

#: The token the fake source hands out; must never show up in a raised error's message.
TOKEN = "CANARY-token-5b1e07-peer"
#: What the peer says when it refuses; may be kept as ``details``, never put in the message.
PEER_SECRET = "CANARY-door-code-8841"

#: User ids the servicer answers with a refusal instead of a user.
REFUSALS = {
    "missing": grpc.StatusCode.NOT_FOUND,
    "down": grpc.StatusCode.UNAVAILABLE,
    "denied": grpc.StatusCode.PERMISSION_DENIED,
    "broken": grpc.StatusCode.INTERNAL,
}


@dataclass
class Seen:
    """What reached the server on the last call."""

    authorization: str | None = None
    time_remaining: float | None = None


class Identity(identity_pb2_grpc.IdentityServiceServicer):
    def __init__(self, seen: Seen) -> None:
        self._seen = seen

    async def GetUser(  # type: ignore[override]
        self, request: identity_pb2.GetUserRequest, context: grpc.aio.ServicerContext
    ) -> identity_pb2.GetUserResponse:
        metadata = dict(context.invocation_metadata() or ())
        self._seen.authorization = metadata.get("authorization")
        self._seen.time_remaining = context.time_remaining()
        if request.id == "slow":
            await asyncio.sleep(1.0)
        elif request.id in REFUSALS:
            # A careless peer: its details quote a secret and the caller's token.
            await context.abort(
                REFUSALS[request.id], f"refused {PEER_SECRET} for {self._seen.authorization}"
            )
        return identity_pb2.GetUserResponse(user=identity_pb2.User(id=request.id))


@dataclass
class FakeTokens:
    """Hands out ``TOKEN`` and records what it was asked for."""

    asked: list[tuple[str, str, str]] = field(default_factory=list)
    refusal: grpc.StatusCode | None = None

    async def token(self, *, audience: str, scope: str = "", tenant_id: str = "") -> str:
        self.asked.append((audience, scope, tenant_id))
        if self.refusal is not None:
            raise grpc.aio.AioRpcError(
                self.refusal,
                grpc.aio.Metadata(),
                grpc.aio.Metadata(),
                details="service work_order may not call identity",
            )
        return TOKEN


@dataclass
class Peer:
    stub: identity_pb2_grpc.IdentityServiceStub
    seen: Seen
    tokens: FakeTokens
    client: PeerClient


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    seen = Seen()
    server = grpc.aio.server()
    identity_pb2_grpc.add_IdentityServiceServicer_to_server(Identity(seen), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    tokens = FakeTokens()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield Peer(
            identity_pb2_grpc.IdentityServiceStub(channel),
            seen,
            tokens,
            PeerClient(tokens, audience="identity", timeout=0.5),
        )
    await server.stop(None)


async def get_user(peer: Peer, user_id: str, **kwargs: object) -> identity_pb2.GetUserResponse:
    response: identity_pb2.GetUserResponse = await peer.client.call(
        peer.stub.GetUser,
        identity_pb2.GetUserRequest(id=user_id),
        scope="directory:read",
        tenant_id="tenant-1",
        **kwargs,  # type: ignore[arg-type]
    )
    return response


def assert_quotes_nothing(error: BaseException) -> None:
    for text in (str(error), repr(error), *map(str, error.args)):
        assert TOKEN not in text
        assert PEER_SECRET not in text


async def test_the_scoped_token_and_the_deadline_reach_the_peer(peer: Peer) -> None:
    response = await get_user(peer, "u-1")

    assert response.user.id == "u-1"
    assert peer.tokens.asked == [("identity", "directory:read", "tenant-1")]
    assert peer.seen.authorization == f"Bearer {TOKEN}"
    assert peer.seen.time_remaining is not None
    assert 0.0 < peer.seen.time_remaining <= 0.5


async def test_the_default_deadline_is_the_platforms() -> None:
    assert PeerClient(FakeTokens(), audience="identity").timeout == 5.0


async def test_not_found_is_the_callers_own_error(peer: Peer) -> None:
    mine = NotFound("person not found")
    with pytest.raises(NotFound) as raised:
        await get_user(peer, "missing", not_found=mine)
    assert raised.value is mine


async def test_not_found_without_an_error_of_the_callers_is_a_refusal(peer: Peer) -> None:
    with pytest.raises(PeerRefused) as raised:
        await get_user(peer, "missing")
    assert raised.value.status == grpc.StatusCode.NOT_FOUND
    assert_quotes_nothing(raised.value)


async def test_an_unavailable_peer_is_unavailable(peer: Peer) -> None:
    with pytest.raises(Unavailable) as raised:
        await get_user(peer, "down", not_found=NotFound("person not found"))
    assert str(raised.value) == "identity is unavailable"
    assert_quotes_nothing(raised.value)


async def test_a_peer_too_slow_for_the_deadline_is_unavailable(peer: Peer) -> None:
    with pytest.raises(Unavailable) as raised:
        await get_user(peer, "slow")
    assert isinstance(raised.value.__cause__, grpc.aio.AioRpcError)
    assert raised.value.__cause__.code() == grpc.StatusCode.DEADLINE_EXCEEDED


async def test_a_peer_nobody_answers_on_is_unavailable() -> None:
    server = grpc.aio.server()
    port = server.add_insecure_port("127.0.0.1:0")  # bound, never started, then closed
    await server.stop(None)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        client = PeerClient(FakeTokens(), audience="customer_vault", timeout=2.0)
        with pytest.raises(Unavailable, match=r"^customer_vault is unavailable$"):
            await client.call(
                identity_pb2_grpc.IdentityServiceStub(channel).GetUser,
                identity_pb2.GetUserRequest(id="u-1"),
                scope="directory:read",
                tenant_id="tenant-1",
            )


@pytest.mark.parametrize(
    ("user_id", "status"),
    [("denied", grpc.StatusCode.PERMISSION_DENIED), ("broken", grpc.StatusCode.INTERNAL)],
)
async def test_other_refusals_name_the_peer_and_status_only(
    peer: Peer, user_id: str, status: grpc.StatusCode
) -> None:
    with pytest.raises(PeerRefused) as raised:
        await get_user(peer, user_id, not_found=NotFound("person not found"))

    refused = raised.value
    assert isinstance(refused, RuntimeError)  # callers that caught the plain error still do
    assert str(refused) == f"identity refused a call with {status.name}"
    assert (refused.peer, refused.status) == ("identity", status)
    assert refused.details.startswith("refused ")  # the peer's own words, for records
    assert_quotes_nothing(refused)


async def test_a_token_identity_refuses_is_identitys_refusal_not_the_peers_not_found(
    peer: Peer,
) -> None:
    vault = PeerClient(peer.tokens, audience="customer_vault")
    peer.tokens.refusal = grpc.StatusCode.NOT_FOUND
    with pytest.raises(PeerRefused) as raised:
        await vault.call(
            peer.stub.GetUser,
            identity_pb2.GetUserRequest(id="u-1"),
            scope="sites:locate",
            tenant_id="tenant-1",
            not_found=NotFound("site not found"),
        )
    assert (raised.value.peer, raised.value.status) == ("identity", grpc.StatusCode.NOT_FOUND)
    assert peer.seen.authorization is None  # the peer was never called

    peer.tokens.refusal = grpc.StatusCode.UNAVAILABLE
    with pytest.raises(Unavailable, match=r"^identity is unavailable$"):
        await get_user(peer, "u-1")
