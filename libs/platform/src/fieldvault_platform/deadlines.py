"""Deadline propagation: an outgoing call never outlives the incoming one.

The gRPC error interceptor records the deadline of the RPC being served; a
servicer that calls another service asks :func:`call_timeout` for the
timeout to use, which is the smaller of its own default and the time the
original caller still has left.
"""

from __future__ import annotations

import time
from contextvars import ContextVar

import grpc

from fieldvault_platform.errors import DomainError

_deadline: ContextVar[float | None] = ContextVar("fieldvault_deadline", default=None)


class DeadlineExceeded(DomainError):
    status = grpc.StatusCode.DEADLINE_EXCEEDED
    code = "deadline_exceeded"


def set_deadline_from_remaining(remaining_seconds: float | None) -> None:
    """Record the incoming RPC's deadline (``context.time_remaining()``) for this task."""
    _deadline.set(None if remaining_seconds is None else time.monotonic() + remaining_seconds)


def remaining() -> float | None:
    """Seconds left before the incoming deadline, or None when there is none."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def call_timeout(default: float) -> float:
    """Timeout for an outgoing call: ``default``, cut to what the caller has left."""
    left = remaining()
    if left is None:
        return default
    if left <= 0:
        raise DeadlineExceeded("the caller's deadline has passed")
    return min(default, left)
