"""Errors as RFC 9457 ``application/problem+json``: the one place failures become HTTP.

Every error body has ``type``, ``title``, ``status``, ``detail``, a stable
machine ``code`` and the ``request_id`` that also appears in the logs. The
``title`` is derived from the ``code`` so it is the same for every occurrence
of a problem type, as RFC 9457 asks.

gRPC failures of the backing services arrive as ``grpc.aio.AioRpcError`` (or
:class:`~gateway.peers.PeerRpcError` when called through a peer). The services'
error interceptor puts the domain error's code in the trailing metadata key
``fieldvault-error-code``; a 4xx answer shows that code and the status details,
which the services guarantee never contain a secret. A 5xx answer shows only
generic text: whatever broke inside is for the logs, not for the caller.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from fieldvault_platform.errors import ERROR_CODE_KEY, PROBLEM_MEMBER_PREFIX, RETRY_AFTER_KEY
from gateway.peers import PeerRpcError

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://fieldvault.dev/problems/"

DEFAULT_RETRY_AFTER_SECONDS = 5

# A code from metadata becomes part of a URI and a client's switch statement;
# anything else is ignored in favour of the status code's default.
_SANE_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


class Problem(Exception):
    """Raised by gateway code for an error it decides itself (e.g. 412 ``precondition_failed``).

    ``detail`` is shown to the caller: never put a secret, token or input value in it.
    """

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})
        #: Extension members of the body (RFC 9457 §3.2), e.g. OAuth2's ``error``.
        self.extra = dict(extra or {})


@dataclass(frozen=True)
class _GrpcMapping:
    status: int
    code: str


_GRPC_TO_HTTP: dict[grpc.StatusCode, _GrpcMapping] = {
    grpc.StatusCode.INVALID_ARGUMENT: _GrpcMapping(400, "invalid_argument"),
    grpc.StatusCode.UNAUTHENTICATED: _GrpcMapping(401, "unauthenticated"),
    grpc.StatusCode.PERMISSION_DENIED: _GrpcMapping(403, "permission_denied"),
    grpc.StatusCode.NOT_FOUND: _GrpcMapping(404, "not_found"),
    grpc.StatusCode.ALREADY_EXISTS: _GrpcMapping(409, "already_exists"),
    grpc.StatusCode.FAILED_PRECONDITION: _GrpcMapping(409, "failed_precondition"),
    grpc.StatusCode.ABORTED: _GrpcMapping(409, "aborted"),
    grpc.StatusCode.RESOURCE_EXHAUSTED: _GrpcMapping(429, "rate_limited"),
    grpc.StatusCode.UNAVAILABLE: _GrpcMapping(503, "unavailable"),
    grpc.StatusCode.DEADLINE_EXCEEDED: _GrpcMapping(504, "deadline_exceeded"),
}
_INTERNAL = _GrpcMapping(500, "internal")

#: Machine codes whose HTTP status differs from their gRPC status's default: a stale
#: ``If-Match`` and customer data erased for good (GDPR Art. 17), both sent as
#: FAILED_PRECONDITION; a document over customer_vault's size limit (INVALID_ARGUMENT),
#: answered like the gateway's own upload limit.
#:
#: work_order's ``invalid_transition`` and ``dpa_inactive`` are FAILED_PRECONDITION, so
#: 409 by default. ``dpa_inactive`` is deliberately not listed: customer_vault sends it as
#: PERMISSION_DENIED when it refuses a reveal or download, and that stays a 403.
_STATUS_BY_CODE: dict[str, int] = {
    "precondition_failed": 412,
    "erased": 410,
    "share_unavailable": 410,
    "payload_too_large": 413,
}

#: Extension members a service may add to a 4xx problem (trailing metadata
#: ``fieldvault-problem-<name>``), each with its type; anything else is dropped.
#: ``instructions_version``: the data-handling instructions to read and acknowledge.
_PROBLEM_MEMBERS: dict[str, type] = {"instructions_version": int}

# Codes for HTTP errors raised by the framework itself (unknown route, wrong method).
_HTTP_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def title_for(code: str) -> str:
    return code.replace("_", " ").capitalize()


def problem(
    *,
    status: int,
    code: str,
    detail: str,
    request_id: str | None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> ProblemResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title_for(code),
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id,
        **(extra or {}),
    }
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}))


def _request_id(request: Request) -> str | None:
    value = getattr(request.state, "request_id", None)
    return value if isinstance(value, str) else None


def _metadata_value(metadata: Iterable[tuple[str, str | bytes]] | None, key: str) -> str | None:
    for item_key, value in metadata or ():
        if item_key == key and isinstance(value, str):
            return value
    return None


def error_code(error: grpc.aio.AioRpcError) -> str | None:
    """The machine code a service put in the trailing metadata, if it is a sane one."""
    reported = _metadata_value(error.trailing_metadata(), ERROR_CODE_KEY)
    return reported if reported and _SANE_CODE.fullmatch(reported) else None


def grpc_error(
    error: grpc.aio.AioRpcError, *, peer: str | None, request_id: str | None
) -> ProblemResponse:
    """The problem response for a failed gRPC call (``peer`` names the service, if known)."""
    code = error.code()
    mapping = _GRPC_TO_HTTP.get(code, _INTERNAL)
    trailing = error.trailing_metadata()
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}

    if mapping.status < 500:
        problem_code = error_code(error) or mapping.code
        status = _STATUS_BY_CODE.get(problem_code, mapping.status)
        detail = error.details() or HTTPStatus(status).phrase
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        mapping = _GrpcMapping(status, mapping.code)
        extra = _problem_members(trailing)
    else:
        problem_code = mapping.code
        service = peer or "a backing service"
        detail = {
            503: f"{service} is temporarily unavailable",
            504: f"{service} did not answer in time",
        }.get(mapping.status, "an internal error occurred")

    if mapping.status in (429, 503):
        retry_after = _metadata_value(trailing, RETRY_AFTER_KEY)
        headers["Retry-After"] = (
            retry_after
            if retry_after and retry_after.isdigit()
            else str(DEFAULT_RETRY_AFTER_SECONDS)
        )

    if mapping.status >= 500:
        # Status name only: details and the debug string may hold addresses.
        log.warning(
            "backing service call failed",
            extra={"peer": peer, "grpc_status": code.name, "request_id": request_id},
        )
    return problem(
        status=mapping.status,
        code=problem_code,
        detail=detail,
        request_id=request_id,
        headers=headers,
        extra=extra,
    )


def _problem_members(trailing: Iterable[tuple[str, str | bytes]] | None) -> dict[str, Any]:
    members: dict[str, Any] = {}
    for name, kind in _PROBLEM_MEMBERS.items():
        value = _metadata_value(trailing, PROBLEM_MEMBER_PREFIX + name)
        if value is None:
            continue
        if kind is int:
            if value.isdigit() and len(value) <= 9:
                members[name] = int(value)
        elif _SANE_CODE.fullmatch(value):
            members[name] = value
    return members


def unhandled_error(exc: BaseException, *, request_id: str | None) -> ProblemResponse:
    """500 for a bug: the traceback goes to the log (redacted), never to the caller."""
    log.error("unhandled error", exc_info=exc, extra={"request_id": request_id})
    return problem(
        status=500, code="internal", detail="an internal error occurred", request_id=request_id
    )


async def _on_rpc_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, grpc.aio.AioRpcError)
    return grpc_error(exc, peer=None, request_id=_request_id(request))


async def _on_peer_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, PeerRpcError)
    return grpc_error(exc.error, peer=exc.peer, request_id=_request_id(request))


async def _on_problem(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, Problem)
    return problem(
        status=exc.status,
        code=exc.code,
        detail=exc.detail,
        request_id=_request_id(request),
        headers=exc.headers,
        extra=exc.extra,
    )


async def _on_http_exception(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    code = _HTTP_CODES.get(status, "internal" if status >= 500 else "error")
    detail = exc.detail if status < 500 and isinstance(exc.detail, str) else phrase
    return problem(
        status=status,
        code=code,
        detail=detail,
        request_id=_request_id(request),
        headers=exc.headers,
    )


async def _on_validation_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    # Only where and what: pydantic's ``input`` and ``ctx`` are dropped because the
    # rejected value may be a password, a door code or a token.
    errors = [
        {
            "field": ".".join(str(part) for part in error.get("loc", ())),
            "message": error.get("msg", ""),
        }
        if error.get("type") != "json_invalid"
        # ``loc`` is ("body", <offset>): say where, as text, under the body.
        else {"field": "body", "message": f"not valid JSON (at character {error['loc'][-1]})"}
        for error in exc.errors()
    ]
    malformed = any(error.get("type") == "json_invalid" for error in exc.errors())
    return problem(
        status=422,
        code="validation_error",
        detail="the request body is not valid JSON"
        if malformed
        else "the request is not valid; see errors",
        request_id=_request_id(request),
        extra={"errors": errors},
    )


def install(app: FastAPI) -> None:
    """Register the handlers; unhandled exceptions are answered by the request-id middleware."""
    app.add_exception_handler(grpc.aio.AioRpcError, _on_rpc_error)
    app.add_exception_handler(PeerRpcError, _on_peer_error)
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
