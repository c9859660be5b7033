"""RevocationListener through a real nats-server: identity's events reach the deny list."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from google.protobuf.message import Message
from nats.aio.client import Client
from nats.js import JetStreamContext
from opentelemetry import trace

from fieldvault.identity.v1.identity_events_pb2 import (
    SESSION_REVOKED_REASON_LOGOUT,
    ApiClientRevoked,
    SessionRevoked,
    UserDeactivated,
)
from fieldvault_devstack.nats import NatsServer
from fieldvault_platform.auth import DenyList, RevocationListener, TokenVerifier
from fieldvault_platform.errors import Unauthenticated
from fieldvault_platform.events import (
    EVENT_TYPE_HEADER,
    MSG_ID_HEADER,
    connect,
    ensure_stream,
    event_subject,
    inject_trace_context,
    stream_name,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def nats_client(nats_server: NatsServer) -> AsyncIterator[Client]:
    client = await connect(nats_server.url, name="auth-tests", reconnect_time_wait=0.1)
    yield client
    await client.close()


@pytest.fixture
async def js(nats_client: Client) -> JetStreamContext:
    js = nats_client.jetstream(timeout=2)
    # The stream identity owns; other tests on this server share it, so every
    # test uses a tenant of its own and does not delete it.
    await ensure_stream(js, "identity")
    return js


@pytest.fixture
def tenant() -> str:
    return f"tenant-{uuid.uuid4().hex[:10]}"


async def publish(js: JetStreamContext, tenant: str, event: str, message: Message) -> None:
    headers = inject_trace_context(
        {MSG_ID_HEADER: message.event_id, EVENT_TYPE_HEADER: message.DESCRIPTOR.full_name}  # type: ignore[attr-defined]
    )
    await js.publish(
        event_subject(tenant, "identity", event), message.SerializeToString(), headers=headers
    )


def deactivated(tenant: str, user_id: str, at: float) -> UserDeactivated:
    event = UserDeactivated(event_id=uuid.uuid4().hex, tenant_id=tenant, user_id=user_id)
    event.occurred_at.FromNanoseconds(int(at * 1e9))
    return event


def session_revoked(tenant: str, user_id: str, session_id: str, at: float) -> SessionRevoked:
    event = SessionRevoked(
        event_id=uuid.uuid4().hex,
        tenant_id=tenant,
        user_id=user_id,
        session_id=session_id,
        reason=SESSION_REVOKED_REASON_LOGOUT,
    )
    event.occurred_at.FromNanoseconds(int(at * 1e9))
    return event


@contextlib.asynccontextmanager
async def running(listener: RevocationListener) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(listener.run(stop))
    try:
        await asyncio.wait_for(listener.caught_up.wait(), 10)
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def expect_session_revocation_applied(
    js: Any, issuer: Any, verifier: TokenVerifier, tenant: str, within: float = 5.0
) -> None:
    """Revoke a fresh session over NATS and wait until its token is refused."""
    token = issuer.mint(tid=tenant, sub="user-1", sid="session-1")
    event = session_revoked(tenant, "user-1", "session-1", time.time())
    await publish(js, tenant, "session_revoked", event)
    await refused_within(verifier, token, within)


async def refused_within(verifier: TokenVerifier, token: str, seconds: float) -> float:
    """Poll until the token is refused as revoked; return how long it took."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        try:
            await verifier.verify(token)
        except Unauthenticated as error:
            assert error.message == "token revoked"
            return time.monotonic() - start
        await asyncio.sleep(0.005)
    raise AssertionError(f"token still accepted after {seconds}s")


async def test_deactivating_a_user_refuses_their_earlier_token_within_a_second(
    js: JetStreamContext,
    tenant: str,
    issuer: Any,
    verifier: TokenVerifier,
    deny_list: DenyList,
) -> None:
    now = int(time.time())
    token = issuer.mint(tid=tenant, sub="user-1", iat=now - 3, nbf=now - 3)
    bystander = issuer.mint(tid=tenant, sub="user-2", iat=now - 3, nbf=now - 3)
    async with running(RevocationListener(js, deny_list)):
        await verifier.verify(token)

        await publish(js, tenant, "user_deactivated", deactivated(tenant, "user-1", now - 1))
        elapsed = await refused_within(verifier, token, 5.0)

        assert elapsed < 1.0
        await verifier.verify(bystander)
        # Reactivated and logged in again after the deactivation: accepted.
        await verifier.verify(issuer.mint(tid=tenant, sub="user-1", sid="session-2"))


async def test_revoking_an_api_client_refuses_every_token_of_it_within_a_second(
    js: JetStreamContext, tenant: str, issuer: Any, verifier: TokenVerifier, deny_list: DenyList
) -> None:
    now = int(time.time())
    partner = {"tid": tenant, "sub": "client:fvc_partner", "sid": None, "roles": []}
    tokens = [issuer.mint(**partner, iat=now - age, nbf=now - age) for age in (1, 120)]
    other_client = issuer.mint(**partner | {"sub": "client:fvc_other"})
    # A user whose id happened to equal the client id is another subject.
    user = issuer.mint(tid=tenant, sub="fvc_partner")
    told: list[tuple[str, str]] = []
    listener = RevocationListener(
        js, deny_list, on_client_revoked=lambda *revoked: told.append(revoked)
    )
    async with running(listener):
        event = ApiClientRevoked(
            event_id=uuid.uuid4().hex,
            tenant_id=tenant,
            api_client_id=str(uuid.uuid4()),
            client_id="fvc_partner",
        )
        event.occurred_at.FromNanoseconds(int(now * 1e9))
        await publish(js, tenant, "api_client_revoked", event)

        assert await refused_within(verifier, tokens[0], 5.0) < 1.0
        await refused_within(verifier, tokens[1], 0.1)
        await verifier.verify(other_client)
        await verifier.verify(user)
        assert told == [(tenant, "fvc_partner")]


async def test_a_listener_started_after_the_events_still_applies_them(
    js: JetStreamContext,
    tenant: str,
    issuer: Any,
    verifier: TokenVerifier,
    deny_list: DenyList,
) -> None:
    now = int(time.time())
    user_token = issuer.mint(tid=tenant, sub="user-1", iat=now - 3, nbf=now - 3)
    session_token = issuer.mint(tid=tenant, sub="user-2", sid="session-9")
    await publish(js, tenant, "user_deactivated", deactivated(tenant, "user-1", now - 1))
    await publish(
        js, tenant, "session_revoked", session_revoked(tenant, "user-2", "session-9", now)
    )

    # A service (re)starting now: its deny list is empty until the listener catches up.
    await verifier.verify(user_token)
    async with running(RevocationListener(js, deny_list)):
        for token in (user_token, session_token):
            with pytest.raises(Unauthenticated, match="token revoked"):
                await verifier.verify(token)


async def test_events_older_than_the_lookback_are_not_replayed(
    js: JetStreamContext, tenant: str, deny_list: DenyList
) -> None:
    await publish(js, tenant, "session_revoked", session_revoked(tenant, "u", "s-old", time.time()))
    await asyncio.sleep(1.2)

    async with running(RevocationListener(js, deny_list, lookback=1.0)):
        pass

    assert ("session", (tenant, "s-old")) not in {
        (kind, key) for kind, entries in deny_list._entries.items() for key in entries
    }


async def test_an_unreadable_event_is_skipped_and_the_next_one_applied(
    js: JetStreamContext,
    tenant: str,
    issuer: Any,
    verifier: TokenVerifier,
    deny_list: DenyList,
) -> None:
    token = issuer.mint(tid=tenant, sub="user-1", sid="session-1")
    async with running(RevocationListener(js, deny_list)):
        await js.publish(
            event_subject(tenant, "identity", "user_deactivated"),
            b"\xff\xff\xff not protobuf",
            headers={MSG_ID_HEADER: uuid.uuid4().hex},
        )
        await publish(
            js, tenant, "session_revoked", session_revoked(tenant, "user-1", "session-1", 0)
        )

        await refused_within(verifier, token, 5.0)


async def test_the_listener_continues_the_publishers_trace(
    js: JetStreamContext, tenant: str, deny_list: DenyList, spans: Any
) -> None:
    tracer = trace.get_tracer("identity-test")
    async with running(RevocationListener(js, deny_list)):
        with tracer.start_as_current_span("deactivate user") as publisher:
            await publish(
                js, tenant, "user_deactivated", deactivated(tenant, "user-1", time.time())
            )
        trace_id = publisher.get_span_context().trace_id

        async def processed() -> bool:
            return any(
                s.name.endswith(".user_deactivated") and s.context.trace_id == trace_id
                for s in spans.get_finished_spans()
            )

        deadline = time.monotonic() + 5
        while not await processed():
            assert time.monotonic() < deadline, "no consumer span in the publisher's trace"
            await asyncio.sleep(0.02)


async def test_the_listener_recovers_when_nats_restarts(
    nats_factory: Callable[[], NatsServer], issuer: Any, verifier: TokenVerifier, tenant: str
) -> None:
    server = nats_factory()
    client = await connect(server.url, name="auth-restart-test", reconnect_time_wait=0.1)
    deny_list: DenyList = verifier._deny_list
    try:
        js = client.jetstream(timeout=2)
        await ensure_stream(js, "identity")
        listener = RevocationListener(
            js, deny_list, consumer_check_interval=0.2, retry_delay=0.1, max_retry_delay=0.5
        )
        async with running(listener):
            server.restart()
            token = issuer.mint(tid=tenant, sub="user-1", sid="session-1")
            event = session_revoked(tenant, "user-1", "session-1", time.time())
            deadline = time.monotonic() + 15
            while True:  # the client reconnects in the background
                try:
                    await publish(js, tenant, "session_revoked", event)
                    break
                except Exception:
                    assert time.monotonic() < deadline, "could not publish after the restart"
                    await asyncio.sleep(0.1)

            await refused_within(verifier, token, 10.0)
    finally:
        await client.close()


async def test_the_listener_recovers_when_its_consumer_is_removed_on_the_server(
    nats_factory: Callable[[], NatsServer], issuer: Any, verifier: TokenVerifier, tenant: str
) -> None:
    """As after a disconnect that outlasted the consumer's inactivity threshold."""
    server = nats_factory()
    client = await connect(server.url, name="auth-consumer-test", reconnect_time_wait=0.1)
    try:
        js = client.jetstream(timeout=2)
        await ensure_stream(js, "identity")
        listener = RevocationListener(
            js,
            verifier._deny_list,
            consumer_check_interval=0.2,
            retry_delay=0.1,
            max_retry_delay=0.5,
        )
        async with running(listener):
            (consumer,) = await js.consumers_info(stream_name("identity"))
            await js.delete_consumer(stream_name("identity"), consumer.name)
            await asyncio.sleep(0.5)
            await expect_session_revocation_applied(js, issuer, verifier, tenant)
    finally:
        await client.close()


async def test_a_service_started_before_identity_picks_up_its_stream_later(
    nats_factory: Callable[[], NatsServer], issuer: Any, verifier: TokenVerifier, tenant: str
) -> None:
    server = nats_factory()
    client = await connect(server.url, name="auth-early-test", reconnect_time_wait=0.1)
    try:
        js = client.jetstream(timeout=2)
        listener = RevocationListener(js, verifier._deny_list, retry_delay=0.1, max_retry_delay=0.2)
        # No identity stream: nothing can have been revoked, so it is caught up at once.
        async with running(listener):
            await ensure_stream(js, "identity")  # identity starts
            await expect_session_revocation_applied(js, issuer, verifier, tenant)
    finally:
        await client.close()


async def test_a_listener_started_before_identitys_stream_exists_applies_its_first_event_fast(
    nats_factory: Callable[[], NatsServer], issuer: Any, verifier: TokenVerifier, tenant: str
) -> None:
    """A service may start before identity has created its stream; the wait for the
    stream must not grow into a backoff that delays the first revocation."""
    server = nats_factory()
    client = await connect(server.url, name="auth-no-stream-test", reconnect_time_wait=0.1)
    deny_list: DenyList = verifier._deny_list
    try:
        js = client.jetstream(timeout=2)
        listener = RevocationListener(js, deny_list, retry_delay=0.2, max_retry_delay=30)
        async with running(listener):
            await asyncio.sleep(3)  # many attempts against the missing stream
            await ensure_stream(js, "identity")
            await expect_session_revocation_applied(js, issuer, verifier, tenant, within=1.5)
    finally:
        await client.close()


async def test_an_idle_listener_keeps_its_consumer_and_logs_no_warning(
    js: JetStreamContext, tenant: str, deny_list: DenyList, caplog: pytest.LogCaptureFixture
) -> None:
    # The stream holds identity events that are not revocations (as any live stack's
    # does). nats-py then regularly ends an empty pull with a bare asyncio TimeoutError
    # instead of its own, which the listener took for a failure: it dropped its consumer
    # and warned every few seconds. A short pull makes the same race come up within
    # seconds instead of a minute (each pull is one chance for it).
    await js.publish(event_subject(tenant, "identity", "user_created"), b"not a revocation")
    # From now on: other tests in this stream left events this one is not about.
    listener = RevocationListener(js, deny_list, lookback=0.0, fetch_timeout=0.25)

    with caplog.at_level(logging.WARNING, logger="fieldvault_platform.auth.revocation"):
        async with running(listener):
            await asyncio.sleep(6)

    assert [record.getMessage() for record in caplog.records] == []
