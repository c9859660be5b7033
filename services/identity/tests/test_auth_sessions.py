"""Refresh-token rotation and reuse detection, logout: against a real identity and database."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from identity_testkit import RunningIdentity, error_code, for_identity, login, seed_user
from sqlalchemy import select

from fieldvault.identity.v1 import identity_events_pb2 as events_pb
from fieldvault.identity.v1 import identity_pb2 as pb
from fieldvault_platform.events import OutboxEvent
from identity.models import LoginSession, RefreshToken

pytestmark = pytest.mark.integration


async def _refresh(identity: RunningIdentity, token: str) -> pb.RefreshResponse:
    return await identity.stub.Refresh(pb.RefreshRequest(refresh_token=token))


async def _revocations(identity: RunningIdentity, session_id: str) -> list[int]:
    async with identity.database.unit_of_work() as session:
        rows = await session.scalars(
            select(OutboxEvent.payload).where(OutboxEvent.subject.like("%.session_revoked"))
        )
        events = [events_pb.SessionRevoked.FromString(payload) for payload in rows.all()]
    return [event.reason for event in events if event.session_id == session_id]


async def _session_of(identity: RunningIdentity, refresh_token: str) -> LoginSession:
    import hashlib

    digest = hashlib.sha256(refresh_token.encode()).hexdigest()
    async with identity.database.unit_of_work() as session:
        row = await session.scalar(
            select(LoginSession)
            .join(RefreshToken, RefreshToken.session_id == LoginSession.id)
            .where(RefreshToken.token_hash == digest)
        )
    assert row is not None
    return row


async def test_each_refresh_gives_a_new_pair_and_stores_no_token_in_clear(
    identity: RunningIdentity,
) -> None:
    seeded = await seed_user(identity)
    first = await login(identity, seeded)
    second = await _refresh(identity, first.refresh_token)
    third = await _refresh(identity, second.refresh_token)

    tokens = {first.refresh_token, second.refresh_token, third.refresh_token}
    assert len(tokens) == 3
    assert third.access_token != second.access_token
    async with identity.database.unit_of_work() as session:
        stored = set((await session.scalars(select(RefreshToken.token_hash))).all())
    assert not tokens & stored


async def test_presenting_a_spent_refresh_token_revokes_the_whole_session(
    identity: RunningIdentity,
) -> None:
    seeded = await seed_user(identity)
    first = await login(identity, seeded)
    login_session = await _session_of(identity, first.refresh_token)
    second = await _refresh(identity, first.refresh_token)

    with pytest.raises(grpc.aio.AioRpcError) as reused:
        await _refresh(identity, first.refresh_token)
    assert reused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error_code(reused.value) == "refresh_token_reused"

    # The legitimate-looking successor is dead too, and so is the session's access token.
    with pytest.raises(grpc.aio.AioRpcError) as dead:
        await _refresh(identity, second.refresh_token)
    assert error_code(dead.value) == "invalid_refresh_token"
    with pytest.raises(grpc.aio.AioRpcError):
        await for_identity(identity, second.access_token)
    assert await _revocations(identity, login_session.id) == [
        events_pb.SESSION_REVOKED_REASON_REFRESH_TOKEN_REUSE
    ]


async def test_two_racing_refreshes_with_one_token_end_the_session(
    identity: RunningIdentity,
) -> None:
    seeded = await seed_user(identity)
    first = await login(identity, seeded)
    login_session = await _session_of(identity, first.refresh_token)

    results = await asyncio.gather(
        _refresh(identity, first.refresh_token),
        _refresh(identity, first.refresh_token),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, pb.RefreshResponse)]
    losers = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(winners) == 1 and len(losers) == 1
    assert error_code(losers[0]) == "refresh_token_reused"
    # Whoever won holds nothing usable: the session is revoked, once.
    with pytest.raises(grpc.aio.AioRpcError):
        await _refresh(identity, winners[0].refresh_token)
    assert await _revocations(identity, login_session.id) == [
        events_pb.SESSION_REVOKED_REASON_REFRESH_TOKEN_REUSE
    ]


async def test_an_unknown_refresh_token_is_refused_without_revoking_anything(
    identity: RunningIdentity,
) -> None:
    seeded = await seed_user(identity)
    first = await login(identity, seeded)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _refresh(identity, "not-a-token-we-issued")
    assert error_code(refused.value) == "invalid_refresh_token"
    assert await _refresh(identity, first.refresh_token)


async def test_logout_ends_the_session_and_announces_it(identity: RunningIdentity) -> None:
    seeded = await seed_user(identity)
    first = await login(identity, seeded)
    login_session = await _session_of(identity, first.refresh_token)
    metadata = await for_identity(identity, first.access_token)

    await identity.stub.Logout(pb.LogoutRequest(), metadata=metadata)

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await identity.stub.GetMe(pb.GetMeRequest(), metadata=metadata)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError):
        await _refresh(identity, first.refresh_token)
    assert await _revocations(identity, login_session.id) == [
        events_pb.SESSION_REVOKED_REASON_LOGOUT
    ]


async def test_logout_everywhere_ends_every_session_of_the_account_a_lost_phone_among_them(
    identity: RunningIdentity,
) -> None:
    seeded = await seed_user(identity)
    lost_phone = await login(identity, seeded)
    desk = await login(identity, seeded)
    stranger = await login(identity, await seed_user(identity))
    lost_session = await _session_of(identity, lost_phone.refresh_token)
    desk_session = await _session_of(identity, desk.refresh_token)

    await identity.stub.Logout(
        pb.LogoutRequest(everywhere=True),
        metadata=await for_identity(identity, desk.access_token),
    )

    for ended in (lost_phone, desk):
        with pytest.raises(grpc.aio.AioRpcError):
            await _refresh(identity, ended.refresh_token)
    for session_id in (lost_session.id, desk_session.id):
        assert await _revocations(identity, session_id) == [events_pb.SESSION_REVOKED_REASON_LOGOUT]
    # Someone else's session is not touched.
    assert await _refresh(identity, stranger.refresh_token)


async def test_get_me_describes_the_caller(identity: RunningIdentity) -> None:
    seeded = await seed_user(identity, roles=["dispatcher"])
    first = await login(identity, seeded)
    me = await identity.stub.GetMe(
        pb.GetMeRequest(), metadata=await for_identity(identity, first.access_token)
    )
    assert (me.user.id, me.user.email, list(me.user.roles), me.user.mfa_enabled) == (
        seeded.user_id,
        seeded.email,
        ["dispatcher"],
        False,
    )
