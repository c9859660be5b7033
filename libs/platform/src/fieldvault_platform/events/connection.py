"""Connecting to NATS and declaring the JetStream streams and consumers.

Streams and consumers are declared by the code that uses them (create or
update, so every start converges on the configuration in the code) rather
than by a separate provisioning step that could drift from it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

from nats.aio.client import Client
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    ConsumerInfo,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    StreamInfo,
)
from nats.js.errors import BadRequestError, NotFoundError, ServiceUnavailableError

from fieldvault_platform.errors import Unavailable
from fieldvault_platform.events.subjects import service_subjects, stream_name

logger = logging.getLogger(__name__)

#: Long enough to cover a relay that crashes after publishing and is
#: restarted (or a peer relay takes over): its re-publish of the same event id
#: is dropped by JetStream as long as it lands inside this window.
DEFAULT_DUPLICATE_WINDOW = 15 * 60.0
#: Events are facts for other services to react to, not an archive: a week
#: covers any consumer outage we would tolerate without a replay from the source.
DEFAULT_MAX_AGE = 7 * 24 * 3600.0


def server_urls(url: str) -> list[str]:
    """The servers of ``url``: one, or a cluster's separated by commas."""
    return [part.strip() for part in url.split(",") if part.strip()]


def redact_url(url: str) -> str:
    """The URL (each of a cluster's) without user info, safe for logs and error messages."""
    if "," in url:
        return ",".join(redact_url(part) for part in server_urls(url))
    parts = urlsplit(url if "://" in url else f"nats://{url}")
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


async def connect(
    url: str,
    *,
    name: str,
    connect_timeout: float = 5.0,
    reconnect_time_wait: float = 1.0,
) -> Client:
    """Connect to NATS, reconnecting for ever once connected.

    The first connection is bounded by ``connect_timeout`` so a service that starts
    without NATS fails fast with :class:`Unavailable`; after that, the client
    reconnects without limit because a NATS restart must not take every
    service down with it (JetStream keeps the messages meanwhile).
    """
    safe_url = redact_url(url)

    async def on_error(exc: Exception) -> None:
        # nats-py's default callback logs with a stack trace on every failed
        # attempt; one line with the error type is enough to diagnose.
        logger.warning(
            "NATS connection error",
            extra={"nats_url": safe_url, "error_type": type(exc).__name__, "error": str(exc)},
        )

    async def on_disconnected() -> None:
        if client.is_draining or client.is_closed:
            return  # our own shutdown, not an outage
        logger.warning("NATS disconnected; reconnecting", extra={"nats_url": safe_url})

    async def on_reconnected() -> None:
        logger.info("NATS reconnected", extra={"nats_url": safe_url})

    client = Client()
    try:
        await asyncio.wait_for(
            client.connect(
                servers=server_urls(url),
                name=name,
                error_cb=on_error,
                disconnected_cb=on_disconnected,
                reconnected_cb=on_reconnected,
                allow_reconnect=True,
                # -1: never give up once connected; the first connection is
                # bounded by the wait_for above instead.
                max_reconnect_attempts=-1,
                reconnect_time_wait=reconnect_time_wait,  # type: ignore[arg-type]
                connect_timeout=max(1, int(connect_timeout)),
            ),
            timeout=connect_timeout,
        )
    except Exception:
        await client.close()
        # ``from None``: the caller gets one clear sentence, not a chain of
        # socket errors (the warnings above already recorded each cause).
        raise Unavailable(f"NATS is unavailable at {safe_url}") from None
    return client


async def ensure_stream(
    js: JetStreamContext,
    service: str,
    *,
    duplicate_window: float = DEFAULT_DUPLICATE_WINDOW,
    max_age: float = DEFAULT_MAX_AGE,
    replicas: int = 1,
) -> StreamInfo:
    """Create or update the file-backed stream holding ``service``'s events.

    ``replicas``: copies JetStream keeps (1 on a single server, 3 on a
    three-node cluster); an existing stream is scaled to it by the update.
    """
    config = StreamConfig(
        name=stream_name(service),
        subjects=[service_subjects(service)],
        retention=RetentionPolicy.LIMITS,
        # File storage: events outlive a nats-server restart.
        storage=StorageType.FILE,
        duplicate_window=duplicate_window,
        max_age=max_age,
        num_replicas=replicas,
    )
    return await _patiently(lambda: _create_or_update(js, config), what=config.name or "")


#: Tries at creating or updating a stream or consumer before a service gives up starting.
SETUP_ATTEMPTS = 6

_T = TypeVar("_T")


async def _patiently(call: Callable[[], Awaitable[_T]], *, what: str) -> _T:
    """``call`` again while JetStream answers late or "temporarily unavailable".

    A cluster electing leaders (at start, or with every replica creating its
    streams at once) does both; set-up calls converge on the configuration in
    the code, so asking again is safe.
    """
    for attempt in range(1, SETUP_ATTEMPTS):
        try:
            return await call()
        except (NatsTimeoutError, NoRespondersError, ServiceUnavailableError) as exc:
            logger.warning(
                "JetStream did not answer a set-up request; retrying",
                extra={"target": what, "attempt": attempt, "error_type": type(exc).__name__},
            )
            await asyncio.sleep(attempt)
    return await call()


async def _create_or_update(js: JetStreamContext, config: StreamConfig) -> StreamInfo:
    try:
        await js.stream_info(config.name or "")
    except NotFoundError:
        try:
            return await js.add_stream(config)
        except BadRequestError as exc:
            # Another process created it between our lookup and our create.
            if exc.err_code != _STREAM_NAME_IN_USE:
                raise
    return await js.update_stream(config)


# JetStream API error codes (nats-server/server/errors.json).
_STREAM_NAME_IN_USE = 10058


async def ensure_pull_consumer(
    js: JetStreamContext,
    stream: str,
    durable: str,
    filter_subject: str,
    *,
    max_deliver: int,
    ack_wait: float,
) -> ConsumerInfo:
    """Create or update a durable pull consumer with explicit acks.

    JetStream treats a create for an existing durable with an identical
    configuration as a no-op and applies changes to the editable fields
    (``max_deliver``, ``ack_wait``), so one call covers both cases.
    """
    config = ConsumerConfig(
        durable_name=durable,
        filter_subject=filter_subject,
        deliver_policy=DeliverPolicy.ALL,
        # Explicit: a message is done only when the consumer says so, after
        # its transaction committed; unacked messages come back after ack_wait.
        ack_policy=AckPolicy.EXPLICIT,
        max_deliver=max_deliver,
        ack_wait=ack_wait,
    )
    return await _patiently(lambda: js.add_consumer(stream, config), what=f"{stream}/{durable}")
