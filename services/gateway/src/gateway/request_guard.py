"""What a request body may be: how large, and of which media type.

Every body is capped: at ``max_body_bytes`` in general, at the upload limit on the
two document upload routes. A declared ``Content-Length`` over the cap is refused
with 413 ``payload_too_large`` before a byte is read; a body without one (chunked)
is counted while it streams in and refused the moment it passes the cap, so no
route ever buffers more than the cap.

A route that takes a JSON body refuses any other media type with 415
``unsupported_media_type`` (a form post to a JSON route is a client bug, or a
cross-site form trying its luck); an empty body is left to the route (some bodies
are optional).

No text of the API holds a NUL character, and PostgreSQL cannot store one: a path
or query with one is refused here with 422 ``validation_error``, and a JSON body
with one by ``RequestBody`` (``gateway.rest``), before anything reaches a service.
"""

from __future__ import annotations

from fastapi import params
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.edge import answer_problem, matched_route, settings_of
from gateway.uploads import MULTIPART_OVERHEAD_BYTES

#: Routes whose body is a document (multipart), capped at the upload limit instead.
UPLOAD_ROUTES = frozenset(
    {
        "/v1/customers/{customer_id}/contracts",
        "/v1/organizations/{organization_id}/dpa-documents",
    }
)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes the cap; FastAPI lets an
    ``HTTPException`` from there through, and ``problems`` answers it with 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body may be at most {limit} bytes")


def takes_json(route: APIRoute) -> bool:
    field = route.body_field
    return field is not None and not isinstance(field.field_info, params.Form)


def is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    main, _, subtype = media_type.partition("/")
    return main == "application" and (subtype == "json" or subtype.endswith("+json"))


def holds_nul(scope: Scope) -> bool:
    """Whether the path (decoded) or the query string (raw or %-encoded) has a NUL."""
    query = bytes(scope.get("query_string", b"")).lower()
    return "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query


class RequestGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and holds_nul(scope):
            await answer_problem(
                scope,
                receive,
                send,
                status=422,
                code="validation_error",
                detail="the request path and query must not contain NUL characters",
            )
            return
        if scope["type"] != "http" or scope.get("method") not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        settings = settings_of(scope)
        route = matched_route(scope)
        limit = settings.max_body_bytes
        if route is not None and route.path in UPLOAD_ROUTES:
            limit = settings.max_contract_bytes + MULTIPART_OVERHEAD_BYTES
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await answer_problem(
                scope,
                receive,
                send,
                status=413,
                code="payload_too_large",
                detail=f"the request body may be at most {limit} bytes",
            )
            return
        has_body = (declared.isdigit() and int(declared) > 0) or "transfer-encoding" in headers
        content_type = headers.get("content-type", "")
        if route is not None and takes_json(route) and has_body and not is_json(content_type):
            await answer_problem(
                scope,
                receive,
                send,
                status=415,
                code="unsupported_media_type",
                detail="the body must be application/json",
            )
            return
        received = 0

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, bounded_receive, send)
