"""gRPC client channels: one long-lived grpc.aio channel per peer service.

Channels are opened in the caller's lifespan (gateway lifespan, service
composition root) and closed on shutdown. The OpenTelemetry client
interceptor (installed by :func:`fieldvault_platform.telemetry.setup`)
propagates trace context; deadlines are set per call by the caller and
propagated by :mod:`fieldvault_platform.grpc_server` for chained calls.
"""

from __future__ import annotations

from enum import StrEnum

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from fieldvault_platform.errors import Unavailable

# Keepalive detects a dead peer between calls instead of on the next request.
_CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.enable_retries", 1),
]


def open_channel(target: str) -> grpc.aio.Channel:
    """An insecure channel to ``host:port`` (mTLS is the mesh's job in-cluster)."""
    return grpc.aio.insecure_channel(target, options=_CHANNEL_OPTIONS)


class HealthStatus(StrEnum):
    SERVING = "serving"
    NOT_SERVING = "not_serving"
    #: No answer: the peer is down, unreachable or too slow.
    UNREACHABLE = "unreachable"


# Connection-level failures: the peer could not be reached or did not answer in time.
_UNREACHABLE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


async def health_status(
    channel: grpc.aio.Channel, *, service: str = "", timeout: float = 1.0
) -> HealthStatus:
    """What the peer's ``grpc.health.v1`` service says; tells "down" from "not serving"."""
    stub = health_pb2_grpc.HealthStub(channel)
    try:
        response = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
    except grpc.aio.AioRpcError as exc:
        if exc.code() in _UNREACHABLE_CODES:
            return HealthStatus.UNREACHABLE
        return HealthStatus.NOT_SERVING
    if response.status == health_pb2.HealthCheckResponse.SERVING:
        return HealthStatus.SERVING
    return HealthStatus.NOT_SERVING


async def check_health(
    channel: grpc.aio.Channel, *, service: str = "", timeout: float = 1.0
) -> bool:
    """True when the peer's standard health service reports SERVING."""
    return await health_status(channel, service=service, timeout=timeout) is HealthStatus.SERVING


class PeerRefused(RuntimeError):
    """A peer refused a call for a reason this service cannot fix by retrying as it is
    (scopes, secrets, a bad request), or for one its caller treats as an answer.

    The message names the peer and the status only. ``details`` is the peer's own
    message (a domain error's, which never holds a secret), for records and logs
    that want the reason; it is not part of ``str(exc)``.
    """

    def __init__(self, peer: str, status: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{peer} refused a call with {status.name}")
        self.peer = peer
        self.status = status
        self.details = details


def peer_error(
    exc: grpc.aio.AioRpcError, peer: str, not_found: Exception | None = None
) -> Exception:
    """What a failed call to a peer means here: ``not_found``, the peer being
    unavailable (``Unavailable``, retryable), or this deployment's own fault
    (scopes, secrets: a refusal the caller cannot fix, so ``PeerRefused``, a plain
    error). Without ``not_found``, NOT_FOUND is a ``PeerRefused`` like the rest."""
    code = exc.code()
    if code == grpc.StatusCode.NOT_FOUND and not_found is not None:
        return not_found
    if code in _UNREACHABLE_CODES:
        return Unavailable(f"{peer} is unavailable")
    return PeerRefused(peer, code, exc.details() or "")
