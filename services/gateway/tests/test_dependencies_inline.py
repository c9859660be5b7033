"""No route dependency of the gateway runs in FastAPI's thread pool.

FastAPI calls a plain ``def`` dependency through ``run_in_threadpool``: one
thread hop (and two GIL hand-overs) per dependency per request. The gateway's
dependencies only read ``app.state`` or a header, so they are ``async def`` and
run inline; under the reveal load the hops had cost more than the request's own
work (bench/README.md, end to end). The same holds for route functions.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from gateway.main import create_app
from gateway.settings import GatewaySettings


def api_routes(container: Any) -> Iterator[APIRoute]:
    for route in container.routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # an included router (FastAPI ≥ 0.160)
            yield from api_routes(route.original_router)
        elif hasattr(route, "routes"):
            yield from api_routes(route)


def threaded_dependencies(dependant: Dependant) -> Iterator[str]:
    for sub in dependant.dependencies:
        call = sub.call
        # A dependency may be a callable instance: FastAPI looks at its __call__.
        target = call if inspect.isroutine(call) else getattr(call, "__call__", call)  # noqa: B004
        if call is not None and not (
            inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)
        ):
            yield f"{target.__module__}.{target.__qualname__}"
        yield from threaded_dependencies(sub)


def test_every_route_and_dependency_of_the_gateway_runs_on_the_event_loop() -> None:
    app = create_app(GatewaySettings())
    routes = list(api_routes(app.router))
    assert any(route.path == "/v1/sites/{site_id}/secrets/{kind}/reveal" for route in routes)

    threaded = {
        f"{route.path}: {name}"
        for route in routes
        for name in threaded_dependencies(route.dependant)
    }
    sync_routes = {
        route.path for route in routes if not inspect.iscoroutinefunction(route.endpoint)
    }

    assert threaded == set()
    assert sync_routes == set()
