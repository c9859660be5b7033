"""The error answers of every operation in the OpenAPI document, derived from its traits.

An operation's possible errors follow from what it depends on, not from a list
kept by hand per route: a caller's token (401, 403), an id in the path (404),
``If-Match`` (412), a body (413, 415 for JSON, 422), any parameter (422), the
rate limiter (429, all but the probes), a backing service (503) and a change
made in one (409). Each is documented with the problem+json ``Problem`` schema;
a route's own description of a status (e.g. "If-Match is stale") is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, cast

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import _get_api_route_for_openapi

from gateway.auth import current_caller
from gateway.dependencies import get_peers, if_match
from gateway.problems import PROBLEM_MEDIA_TYPE
from gateway.ratelimit import EXEMPT_PATHS

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

#: RFC 9457 body of every error answer (problems.py builds it).
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details; `code` is stable, switch on it.",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "request_id": {"type": "string", "nullable": True},
    },
    "additionalProperties": True,
    "example": {
        "type": "https://fieldvault.dev/problems/not_found",
        "title": "Not found",
        "status": 404,
        "detail": "site not found",
        "code": "not_found",
        "request_id": "3f2b8c1e9a7d4e60",
    },
}

#: The default text of each documented error (its ``code`` in brackets).
DESCRIPTIONS = {
    "401": "No valid access token (unauthenticated)",
    "403": "The caller may not do this (permission_denied)",
    "404": "No such resource visible to the caller (not_found)",
    "409": "Conflicts with the resource's current state (already_exists, failed_precondition)",
    "412": "If-Match is stale (precondition_failed)",
    "413": "The request body is larger than allowed (payload_too_large)",
    "415": "The body is not application/json (unsupported_media_type)",
    "422": "The request is not valid (validation_error)",
    "429": "Too many requests (rate_limited); see Retry-After",
    "503": "A backing service is unavailable (unavailable); see Retry-After",
}
RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}
}
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Traits:
    """What an operation depends on, as far as its possible errors go."""

    authenticated: bool
    path_ids: bool
    conditional: bool
    body: bool
    json_body: bool
    parameters: bool
    rate_limited: bool
    calls_backend: bool
    changes: bool

    def statuses(self) -> list[str]:
        rules = (
            ("401", self.authenticated),
            ("403", self.authenticated),
            ("404", self.path_ids),
            ("409", self.calls_backend and self.changes),
            ("412", self.conditional),
            ("413", self.body),
            ("415", self.json_body),
            ("422", self.body or self.parameters),
            ("429", self.rate_limited),
            ("503", self.calls_backend),
        )
        return [status for status, applies in rules if applies]


def _all_dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for dependency in dependant.dependencies:
        yield from _all_dependants(dependency)


def traits_of(route: routing.APIRoute) -> Traits:
    dependants = list(_all_dependants(route.dependant))
    calls = {dependant.call for dependant in dependants}
    path_params = any(dependant.path_params for dependant in dependants)
    other_params = any(d.query_params or d.header_params for d in dependants)
    body_field = route.body_field
    body_media = getattr(body_field.field_info, "media_type", "") if body_field else ""
    body = route.body_field is not None
    calls_backend = get_peers in calls
    return Traits(
        # A caller's token, or (the public sign-in routes) credentials in the body
        # that identity may refuse.
        authenticated=current_caller in calls or (body and calls_backend),
        path_ids=path_params,
        conditional=if_match in calls,
        body=body,
        json_body=body and body_media == "application/json",
        parameters=path_params or other_params,
        rate_limited=route.path not in EXEMPT_PATHS,
        calls_backend=calls_backend,
        changes=bool((route.methods or set()) & _WRITES),
    )


def _api_routes(app: FastAPI) -> Iterator[routing.APIRoute]:
    for context in routing.iter_route_contexts(app.routes):
        route = _get_api_route_for_openapi(context)
        if route is not None and route.include_in_schema:
            # An APIRoute, or FastAPI's view of one inside an included router.
            yield cast(routing.APIRoute, route)


def _document(operation: dict[str, Any], statuses: list[str]) -> None:
    responses = operation.setdefault("responses", {})
    for status in statuses:
        responses.setdefault(status, {}).setdefault("description", DESCRIPTIONS[status])
    # Every error answer is a problem, but for one a route describes with a body of
    # its own (/readyz's 503 is its readiness report).
    for status, response in responses.items():
        if not status.startswith(("4", "5")):
            continue
        content = response.setdefault("content", {})
        if status == "422":
            # FastAPI's own 422 body (HTTPValidationError) is not what the gateway sends.
            content.pop("application/json", None)
        if content:
            continue
        content[PROBLEM_MEDIA_TYPE] = {"schema": PROBLEM_REF}
        if status in ("429", "503"):
            response.setdefault("headers", {}).update(RETRY_AFTER)


def install(app: FastAPI) -> None:
    """Wrap ``app.openapi`` (after the security schemes) to add every operation's errors."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if getattr(app.state, "openapi_errors_documented", False) and app.openapi_schema:
            return app.openapi_schema
        document = generate()
        components = document.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = PROBLEM_SCHEMA
        paths = document.get("paths", {})
        for route in _api_routes(app):
            traits = traits_of(route)
            for method in route.methods or ():
                operation = paths.get(route.path, {}).get(method.lower())
                if operation is None:
                    continue
                # The operator's routes read their token themselves: their security
                # requirement (openapi_security) says they need one all the same.
                if operation.get("security"):
                    traits = replace(traits, authenticated=True)
                _document(operation, traits.statuses())
        _drop_unused_validation_schemas(document)
        app.state.openapi_errors_documented = True
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _drop_unused_validation_schemas(document: dict[str, Any]) -> None:
    """FastAPI's validation schemas, no longer referenced once 422 is a problem."""
    if "#/components/schemas/HTTPValidationError" not in str(document["paths"]):
        for name in ("HTTPValidationError", "ValidationError"):
            document["components"]["schemas"].pop(name, None)
