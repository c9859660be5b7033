"""Request ids, the access log and the last-resort 500.

A pure ASGI middleware rather than ``BaseHTTPMiddleware``: it does not buffer
streaming responses, and the context variable it sets stays visible to the
route, its dependencies and the exception handlers running in the same task.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import problems

log = logging.getLogger("gateway.access")

REQUEST_ID_HEADER = "X-Request-Id"

# An incoming id is reused only if it is short and plain, so a client cannot
# inject log lines, headers or markup through it.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

# Probes hit these every few seconds; logging them at INFO would drown real traffic.
_PROBE_PATHS = frozenset({"/healthz", "/readyz"})

_request_id: ContextVar[str | None] = ContextVar("gateway_request_id", default=None)


def request_id_for(incoming: str | None) -> str:
    """Keep the caller's id when it is a sane token, otherwise mint a fresh one."""
    if incoming is not None and _SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return str(uuid.uuid4())


class RequestIdLogFilter(logging.Filter):
    """Adds ``request_id`` to every log record written while a request is served."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = _request_id.get()
        if request_id is not None and not hasattr(record, "request_id"):
            record.request_id = request_id
        return True


def install_request_id_logging() -> None:
    """Attach :class:`RequestIdLogFilter` to the root handlers (after ``configure_logging``)."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(RequestIdLogFilter())


class RequestIdMiddleware:
    """Assigns the request id, echoes it, logs the request and answers escaped errors."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = request_id_for(Headers(scope=scope).get(REQUEST_ID_HEADER))
        # scope["state"] backs ``request.state``: handlers that run outside this
        # task's context (none today) can still find the id there.
        scope.setdefault("state", {})["request_id"] = request_id
        token = _request_id.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if response_started:
                # Too late for a problem body; let the server drop the connection.
                raise
            # Answering here, rather than in an ``Exception`` handler, keeps the
            # error from reaching Starlette's ServerErrorMiddleware, which would
            # re-raise it and have the server log a second, id-less traceback.
            response = problems.unhandled_error(exc, request_id=request_id)
            await response(scope, receive, send_with_id)
        finally:
            _request_id.reset(token)
            path = scope.get("path", "")
            log.log(
                logging.DEBUG if path in _PROBE_PATHS else logging.INFO,
                "request",
                extra={
                    # The path only: query strings can carry personal data (?email=).
                    "method": scope.get("method"),
                    "path": path,
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "request_id": request_id,
                },
            )
