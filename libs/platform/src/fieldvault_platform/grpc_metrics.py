"""RPC counts and latencies of a grpc.aio server, by method and status code.

:class:`MetricsInterceptor` runs inside the error interceptor of
:class:`~fieldvault_platform.grpc_server.GrpcServer`, so it sees what a
handler raised before it became a status: a domain error counts as its
status code, an abort as the code it set, anything else as INTERNAL (what the
error interceptor answers). Only registered methods are counted (an unknown
method gets no handler), so a caller cannot invent label values. Health and
reflection are left out: probes would drown the service's own RPCs.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from fieldvault_platform.errors import DomainError
from fieldvault_platform.metrics import GRPC_DURATION, GRPC_HANDLED, trace_exemplar

_NOT_MEASURED = ("grpc.health.v1.", "grpc.reflection.")


def _split(method: str) -> tuple[str, str]:
    """``/pkg.Service/Method`` -> (``pkg.Service``, ``Method``)."""
    service, _, name = method.lstrip("/").partition("/")
    return service, name


def _code_of(exc: BaseException | None, context: grpc.aio.ServicerContext) -> str:
    if isinstance(exc, DomainError):
        return str(exc.status.name)
    if isinstance(exc, asyncio.CancelledError):
        return str(grpc.StatusCode.CANCELLED.name)  # the caller went away
    if exc is not None and not isinstance(exc, grpc.aio.AbortError):
        return str(grpc.StatusCode.INTERNAL.name)
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return str(code.name)
    # Not set by the handler: OK after a return; an abort always sets one.
    return str(grpc.StatusCode.OK.name if exc is None else grpc.StatusCode.UNKNOWN.name)


class _Measurement:
    def __init__(self, method: str) -> None:
        self.service, self.method = _split(method)
        self.started = time.perf_counter()

    def done(self, exc: BaseException | None, context: grpc.aio.ServicerContext) -> None:
        labels = (self.service, self.method, _code_of(exc, context))
        GRPC_HANDLED.labels(*labels).inc()
        GRPC_DURATION.labels(*labels).observe(
            time.perf_counter() - self.started, exemplar=trace_exemplar()
        )


class MetricsInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Counts and times unary and server-streaming RPCs."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None or method.lstrip("/").startswith(_NOT_MEASURED):
            return handler
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                _measure_unary(handler.unary_unary, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None and inspect.isasyncgenfunction(handler.unary_stream):
            return grpc.unary_stream_rpc_method_handler(
                _measure_stream(handler.unary_stream, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler


def _measure_unary(behaviour: Any, method: str) -> Any:
    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> Any:
        measurement = _Measurement(method)
        try:
            response = await behaviour(request, context)
        except BaseException as exc:
            measurement.done(exc, context)
            raise
        measurement.done(None, context)
        return response

    return wrapper


def _measure_stream(behaviour: Any, method: str) -> Any:
    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        measurement = _Measurement(method)
        try:
            async for item in behaviour(request, context):
                yield item
        except BaseException as exc:
            measurement.done(exc, context)
            raise
        measurement.done(None, context)

    return wrapper
