"""The gRPC lifecycle: health, error mapping in one place, deadlines, graceful shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from fieldvault_platform import deadlines
from fieldvault_platform.errors import (
    ERROR_CODE_KEY,
    RETRY_AFTER_KEY,
    DomainError,
    FailedPrecondition,
    NotFound,
    Unavailable,
)
from fieldvault_platform.grpc_server import GrpcServer

CANARY = "CANARY-alarm-code-0000-unhandled"
SERVICE = "fieldvault.test.v1.TestService"


def _identity(b: bytes) -> bytes:
    return b


def _generic_service(
    behaviours: dict[str, Callable[..., Any]],
) -> Callable[[grpc.aio.Server], None]:
    handlers = {
        name: grpc.unary_unary_rpc_method_handler(
            fn, request_deserializer=_identity, response_serializer=_identity
        )
        for name, fn in behaviours.items()
    }

    def register(server: grpc.aio.Server) -> None:
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))

    return register


async def raise_not_found(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    raise NotFound("work order not found")


async def raise_invalid_transition(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    raise FailedPrecondition("cannot complete a new work order", code="invalid_transition")


async def raise_unavailable(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    raise Unavailable("Vault is unavailable: it is sealed")


async def raise_throttled(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    error = DomainError("too many attempts; try again in 30 seconds", code="rate_limited")
    error.status = grpc.StatusCode.RESOURCE_EXHAUSTED
    error.retry_after_seconds = 30
    raise error


async def raise_unexpected(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    raise RuntimeError(f"leaky internals {CANARY}")


async def report_deadline(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return f"{deadlines.call_timeout(60.0):.1f}".encode()


async def slow(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    await asyncio.sleep(0.6)
    return b"finished"


@pytest.fixture
async def server() -> AsyncIterator[GrpcServer]:
    server = GrpcServer(
        host="127.0.0.1",
        port=0,
        registrars=[
            _generic_service(
                {
                    "NotFound": raise_not_found,
                    "Transition": raise_invalid_transition,
                    "Unavailable": raise_unavailable,
                    "Unexpected": raise_unexpected,
                    "Throttled": raise_throttled,
                    "Deadline": report_deadline,
                    "Slow": slow,
                }
            )
        ],
        service_names=[SERVICE],
        grace_seconds=2.0,
    )
    await server.start()
    yield server
    await server.stop()


async def _call(server: GrpcServer, method: str, timeout: float | None = 5.0) -> bytes:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        call = channel.unary_unary(f"/{SERVICE}/{method}")
        result: bytes = await call(b"", timeout=timeout)
        return result


async def _health(port: int, service: str = "") -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        response = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=2
        )
        return int(response.status)


@pytest.mark.parametrize(
    ("method", "status", "code"),
    [
        ("NotFound", grpc.StatusCode.NOT_FOUND, "not_found"),
        ("Transition", grpc.StatusCode.FAILED_PRECONDITION, "invalid_transition"),
        ("Unavailable", grpc.StatusCode.UNAVAILABLE, "unavailable"),
    ],
)
async def test_domain_errors_map_to_status_codes_with_a_machine_code(
    server: GrpcServer, method: str, status: grpc.StatusCode, code: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _call(server, method)
    assert caught.value.code() == status
    trailing = dict(caught.value.trailing_metadata() or ())
    assert trailing[ERROR_CODE_KEY] == code


async def test_a_retry_after_travels_as_trailing_metadata(server: GrpcServer) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _call(server, "Throttled")
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    trailing = dict(caught.value.trailing_metadata() or ())
    assert trailing[RETRY_AFTER_KEY] == "30"
    assert trailing[ERROR_CODE_KEY] == "rate_limited"


async def test_unexpected_errors_answer_internal_without_their_message(server: GrpcServer) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _call(server, "Unexpected")
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert CANARY not in (caught.value.details() or "")
    assert CANARY not in str(caught.value)


async def test_the_callers_deadline_caps_outgoing_call_timeouts(server: GrpcServer) -> None:
    answered = float(await _call(server, "Deadline", timeout=3.0))
    assert 2.0 < answered <= 3.0
    unbounded = float(await _call(server, "Deadline", timeout=None))
    assert unbounded == 60.0


async def test_health_reports_serving_for_the_server_and_each_service(server: GrpcServer) -> None:
    assert await _health(server.port) == health_pb2.HealthCheckResponse.SERVING
    assert await _health(server.port, SERVICE) == health_pb2.HealthCheckResponse.SERVING


async def test_shutdown_turns_health_not_serving_and_lets_in_flight_calls_finish(
    server: GrpcServer,
) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        in_flight = asyncio.ensure_future(channel.unary_unary(f"/{SERVICE}/Slow")(b"", timeout=5))
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""))
        first = await watch.read()
        assert first.status == health_pb2.HealthCheckResponse.SERVING
        await asyncio.sleep(0.1)
        stopping = asyncio.ensure_future(server.stop())
        second = await asyncio.wait_for(watch.read(), timeout=2)
        assert second.status == health_pb2.HealthCheckResponse.NOT_SERVING
        assert await in_flight == b"finished"
        await stopping


async def test_a_taken_port_fails_fast_naming_the_address() -> None:
    first = GrpcServer(host="127.0.0.1", port=0, registrars=[], service_names=[])
    await first.start()
    try:
        second = GrpcServer(host="127.0.0.1", port=first.port, registrars=[], service_names=[])
        with pytest.raises(OSError, match=f"127.0.0.1:{first.port}"):
            await second.start()
    finally:
        await first.stop()


async def _reflected_services(port: int) -> list[str]:
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        responses = stub.ServerReflectionInfo(iter([request]), timeout=2)
        async for response in responses:
            return [s.name for s in response.list_services_response.service]
    return []


@pytest.mark.parametrize("development", [True, False])
async def test_reflection_is_served_only_in_development(development: bool) -> None:
    server = GrpcServer(
        host="127.0.0.1",
        port=0,
        registrars=[],
        service_names=[SERVICE],
        reflection_enabled=development,
    )
    await server.start()
    try:
        if development:
            assert SERVICE in await _reflected_services(server.port)
        else:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await _reflected_services(server.port)
            assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        await server.stop()
