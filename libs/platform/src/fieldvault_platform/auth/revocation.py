"""Feeding the deny list from identity's revocation events on NATS.

Every process needs every revocation, so this is deliberately *not* a shared
durable consumer (which would hand each event to one instance only): each
process creates its own ephemeral pull consumer, filtered to the
revocation subjects (a user deactivated, a session revoked, a partner's API
client revoked), without acks. It starts ``lookback`` ago — as long as a
revoked token could still be accepted — so a process that (re)starts catches
up on revocations of tokens that are still valid. If the consumer is lost
(NATS restart, a disconnect longer than its inactivity threshold), a new one
resumes after the last event applied.

Applying an event is idempotent (the deny list keeps the widest revocation),
so replays after a reconnect are harmless and no processed-events table is
needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import DecodeError
from google.protobuf.timestamp_pb2 import Timestamp
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from fieldvault.identity.v1.identity_events_pb2 import (
    ApiClientRevoked,
    SessionRevoked,
    UserDeactivated,
)
from fieldvault_platform.auth.contract import (
    API_CLIENT_REVOKED_EVENT,
    IDENTITY_SERVICE,
    SESSION_REVOKED_EVENT,
    USER_DEACTIVATED_EVENT,
)
from fieldvault_platform.auth.deny_list import DenyList
from fieldvault_platform.backoff import backoff_seconds
from fieldvault_platform.events._waiting import wait_any
from fieldvault_platform.events.outbox import MSG_ID_HEADER
from fieldvault_platform.events.subjects import EVENT_VERSION, SUBJECT_PREFIX, stream_name
from fieldvault_platform.events.tracing import extract_trace_context

logger = logging.getLogger(__name__)
tracer = trace.get_tracer("fieldvault_platform.auth")

#: Every tenant's revocation events (the tenant is the second subject token).
REVOCATION_SUBJECTS = [
    f"{SUBJECT_PREFIX}.*.{IDENTITY_SERVICE}.{EVENT_VERSION}.{event}"
    for event in (USER_DEACTIVATED_EVENT, SESSION_REVOKED_EVENT, API_CLIENT_REVOKED_EVENT)
]

#: Told (tenant id, client id) after a partner client's revocation is applied.
ClientRevoked = Callable[[str, str], None]


class RevocationListener:
    """Applies identity's ``user_deactivated``, ``session_revoked`` and ``api_client_revoked``
    events to a deny list.

    ``on_client_revoked`` lets a process drop what it keeps for a revoked partner
    client beyond its tokens (the gateway: the tokens it exchanged for it).
    """

    def __init__(
        self,
        js: JetStreamContext,
        deny_list: DenyList,
        *,
        lookback: float | None = None,
        batch_size: int = 100,
        fetch_timeout: float = 1.0,
        consumer_check_interval: float = 5.0,
        inactive_threshold: float = 60.0,
        retry_delay: float = 0.5,
        max_retry_delay: float = 30.0,
        on_client_revoked: ClientRevoked | None = None,
    ) -> None:
        self._js = js
        self._on_client_revoked = on_client_revoked
        self._deny_list = deny_list
        # Default: as far back as a revoked token could still be accepted.
        self._lookback = deny_list.retention if lookback is None else lookback
        self._batch_size = batch_size
        self._fetch_timeout = fetch_timeout
        self._consumer_check_interval = consumer_check_interval
        self._inactive_threshold = inactive_threshold
        self._retry_delay = retry_delay
        self._max_retry_delay = max_retry_delay
        self._stream = stream_name(IDENTITY_SERVICE)
        #: Stream sequence to resume from after losing the consumer.
        self._next_sequence: int | None = None
        self._caught_up = asyncio.Event()
        #: Consecutive failed attempts (reset once a consumer exists), for backoff.
        self._failures = 0

    @property
    def caught_up(self) -> asyncio.Event:
        """Set once the events of the lookback window have been applied.

        A service may wait for it (bounded) before taking traffic, so that a
        restart does not open a window in which revoked tokens pass.
        """
        return self._caught_up

    async def run(self, stop_event: asyncio.Event) -> None:
        """Listen until ``stop_event`` is set, recreating the consumer with backoff on failure."""
        while not stop_event.is_set():
            try:
                await _until_stopped(self._listen(), stop_event)
            except NotFoundError:
                # No identity stream yet means no revocation yet either. It appears
                # as soon as identity starts, and the first revocation must not
                # wait for a grown backoff: keep polling at the base delay.
                self._caught_up.set()
                logger.info("identity's event stream does not exist yet; waiting for it")
                await wait_any((stop_event,), self._retry_delay)
            except Exception as exc:
                self._failures += 1
                delay = backoff_seconds(
                    self._failures - 1, base=self._retry_delay, cap=self._max_retry_delay
                )
                logger.warning(
                    "revocation listener failed; retrying",
                    extra={"error_type": type(exc).__name__, "retry_in": delay},
                )
                await wait_any((stop_event,), delay)

    async def _listen(self) -> None:
        consumer = await self._create_consumer()
        subscription = await self._js.pull_subscribe_bind(consumer=consumer, stream=self._stream)
        last_check = time.monotonic()
        try:
            while True:
                try:
                    messages = await subscription.fetch(
                        self._batch_size, timeout=self._fetch_timeout
                    )
                except TimeoutError:
                    # Nothing new: nats-py says so with its own TimeoutError, but also
                    # with a bare asyncio one when the pull's deadline runs out just
                    # as the server's "no messages" answer arrives (routine whenever
                    # the stream holds other identity events). Both are a quiet
                    # consumer, not a failure: never tear it down and warn for them.
                    self._caught_up.set()
                    # A consumer removed on the server (NATS restarted, or we were
                    # away longer than its inactivity threshold) looks just like
                    # a quiet one; ask now and then, and start over if it is gone.
                    if time.monotonic() - last_check >= self._consumer_check_interval:
                        await self._js.consumer_info(self._stream, consumer)
                        last_check = time.monotonic()
                    continue
                for message in messages:
                    self._process(message)
        finally:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
            with contextlib.suppress(Exception):
                await self._js.delete_consumer(self._stream, consumer)

    async def _create_consumer(self) -> str:
        config = ConsumerConfig(
            # Named for whoever looks at the server; ephemeral (no durable name),
            # so the server removes it once this process is gone.
            name=f"revocations-{uuid.uuid4().hex[:16]}",
            filter_subjects=REVOCATION_SUBJECTS,
            # Nothing to acknowledge: applying is idempotent and in memory, and
            # the resume point is kept here, not on the server.
            ack_policy=AckPolicy.NONE,
            inactive_threshold=self._inactive_threshold,
            mem_storage=True,
        )
        if self._next_sequence is None:
            config.deliver_policy = DeliverPolicy.BY_START_TIME
            config.opt_start_time = datetime.fromtimestamp(time.time() - self._lookback, UTC)
        else:
            config.deliver_policy = DeliverPolicy.BY_START_SEQUENCE
            config.opt_start_seq = self._next_sequence
        info = await self._js.add_consumer(self._stream, config)
        self._failures = 0
        if info.num_pending == 0:
            self._caught_up.set()
        return info.name

    def _process(self, message: Msg) -> None:
        metadata = message.metadata
        if metadata.sequence is not None:
            self._next_sequence = metadata.sequence.stream + 1
        headers = dict(message.headers or {})
        with tracer.start_as_current_span(
            f"process {message.subject}",
            context=extract_trace_context(headers),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "process",
                "messaging.destination.name": message.subject,
                "messaging.message.id": headers.get(MSG_ID_HEADER, ""),
            },
        ):
            self._apply(message.subject, message.data)
        if metadata.num_pending == 0:
            self._caught_up.set()

    def _apply(self, subject: str, payload: bytes) -> None:
        tokens = subject.split(".")
        subject_tenant, event = tokens[1], tokens[-1]
        try:
            if event == USER_DEACTIVATED_EVENT:
                deactivated = UserDeactivated.FromString(payload)
                self._check(subject_tenant, deactivated.tenant_id, deactivated.user_id, event)
                self._deny_list.revoke_user(
                    deactivated.tenant_id,
                    deactivated.user_id,
                    revoked_at=_seconds(deactivated.occurred_at),
                )
            elif event == SESSION_REVOKED_EVENT:
                revoked = SessionRevoked.FromString(payload)
                self._check(subject_tenant, revoked.tenant_id, revoked.session_id, event)
                self._deny_list.revoke_session(
                    revoked.tenant_id, revoked.session_id, revoked_at=_seconds(revoked.occurred_at)
                )
            elif event == API_CLIENT_REVOKED_EVENT:
                client = ApiClientRevoked.FromString(payload)
                self._check(subject_tenant, client.tenant_id, client.client_id, event)
                self._deny_list.revoke_client(
                    client.tenant_id, client.client_id, revoked_at=_seconds(client.occurred_at)
                )
                if self._on_client_revoked is not None:
                    self._on_client_revoked(client.tenant_id, client.client_id)
        except (DecodeError, ValueError) as exc:
            # Redelivery would not make it readable: log and move on.
            logger.error(
                "unreadable revocation event skipped",
                extra={"subject": subject, "error_type": type(exc).__name__},
            )

    @staticmethod
    def _check(subject_tenant: str, tenant_id: str, revoked_id: str, event: str) -> None:
        if not tenant_id or not revoked_id:
            raise ValueError(f"{event} without tenant or id")
        if tenant_id != subject_tenant:
            # Applied anyway: refusing too much is the safe side of a mistake.
            logger.warning(
                "revocation event tenant differs from its subject", extra={"event": event}
            )


def _seconds(timestamp: Timestamp) -> float | None:
    """Unix time of ``occurred_at``; None (meaning now) if identity left it unset."""
    if timestamp.seconds == 0 and timestamp.nanos == 0:
        return None
    return timestamp.seconds + timestamp.nanos / 1e9


async def _until_stopped(work: Coroutine[Any, Any, None], stop_event: asyncio.Event) -> None:
    """Run ``work`` until it ends or ``stop_event`` is set (then cancel it, letting it clean up)."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop_event.wait())
    try:
        await asyncio.wait((task, stopped), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
