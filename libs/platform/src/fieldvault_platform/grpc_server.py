"""gRPC server lifecycle on grpc.aio.

:class:`GrpcServer` owns one ``grpc.aio.Server`` with the standard health
service, reflection in development, one interceptor that turns domain errors
into status codes, and a graceful shutdown: on SIGTERM (or SIGINT) health
goes NOT_SERVING first, so load balancers stop sending work, then in-flight
RPCs get ``grace`` seconds to finish.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from fieldvault_platform.deadlines import set_deadline_from_remaining
from fieldvault_platform.errors import (
    ERROR_CODE_KEY,
    PROBLEM_MEMBER_PREFIX,
    RETRY_AFTER_KEY,
    DomainError,
)

log = logging.getLogger(__name__)

Registrar = Callable[[grpc.aio.Server], None]


async def _abort_for(exc: BaseException, context: grpc.aio.ServicerContext, method: str) -> None:
    if isinstance(exc, DomainError):
        trailing: tuple[tuple[str, str], ...] = ((ERROR_CODE_KEY, exc.code),)
        if exc.retry_after_seconds is not None:
            trailing += ((RETRY_AFTER_KEY, str(exc.retry_after_seconds)),)
        for name, value in (exc.problem_members or {}).items():
            trailing += ((PROBLEM_MEMBER_PREFIX + name, value),)
        await context.abort(exc.status, exc.message, trailing_metadata=trailing)
    # Unknown failures: log for operators (the log filter redacts), answer generically
    # so no internal detail, let alone a secret, reaches the caller.
    log.exception("unhandled error in %s", method)
    await context.abort(
        grpc.StatusCode.INTERNAL,
        "internal error",
        trailing_metadata=((ERROR_CODE_KEY, "internal"),),
    )


class ErrorInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Maps domain errors to status codes in exactly one place; records deadlines."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                _wrap_unary(handler.unary_unary, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                _wrap_stream(handler.unary_stream, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler


def _wrap_unary(behaviour: Any, method: str) -> Any:
    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> Any:
        set_deadline_from_remaining(context.time_remaining())
        try:
            return await behaviour(request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await _abort_for(exc, context, method)

    return wrapper


def _wrap_stream(behaviour: Any, method: str) -> Any:
    # A streaming handler is either an async generator or a coroutine that
    # writes with ``context.write`` (as the health service's Watch does).
    if not inspect.isasyncgenfunction(behaviour):
        return _wrap_unary(behaviour, method)

    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        set_deadline_from_remaining(context.time_remaining())
        try:
            async for item in behaviour(request, context):
                yield item
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await _abort_for(exc, context, method)

    return wrapper


class GrpcServer:
    """One service's gRPC server and its lifecycle."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        registrars: Sequence[Registrar],
        service_names: Sequence[str],
        reflection_enabled: bool = False,
        grace_seconds: float = 10.0,
        interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    ) -> None:
        self.address = f"{host}:{port}"
        self.service_names = list(service_names)
        self.grace_seconds = grace_seconds
        self.health = health.aio.HealthServicer()
        # so_reuseport off: a second process must not silently share our port.
        self.server = grpc.aio.server(
            interceptors=[ErrorInterceptor(), *interceptors], options=[("grpc.so_reuseport", 0)]
        )
        for register in registrars:
            register(self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        if reflection_enabled:
            names = [*self.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME]
            reflection.enable_server_reflection(names, self.server)
        self.port = 0
        self._stopped = asyncio.Event()

    async def start(self) -> None:
        try:
            self.port = self.server.add_insecure_port(self.address)
        except RuntimeError as exc:
            raise OSError(
                f"cannot listen on {self.address}: the port is taken or not allowed"
            ) from exc
        await self.server.start()
        await self._set_status(health_pb2.HealthCheckResponse.SERVING)
        log.info("gRPC server listening", extra={"address": self.address})

    async def stop(self) -> None:
        """Health NOT_SERVING first, then let in-flight RPCs finish within the grace period."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        await self._set_status(health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.server.stop(self.grace_seconds)

    async def _set_status(self, status: int) -> None:
        for name in ("", *self.service_names):
            await self.health.set(name, status)

    async def wait_for_termination(self) -> None:
        await self.server.wait_for_termination()


async def wait_for_shutdown_signal() -> None:
    """Return when SIGTERM or SIGINT arrives."""
    loop = asyncio.get_running_loop()
    received = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, received.set)
    try:
        await received.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
