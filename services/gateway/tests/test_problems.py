from __future__ import annotations

import logging
from typing import Any

import grpc
import pytest
from fastapi import APIRouter
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import BaseModel, Field

from fieldvault_platform.errors import FailedPrecondition
from gateway.dependencies import IdentityPeer, WorkOrderPeer
from gateway.problems import Problem

CANARY = "CANARY-7f3a-door-code-4711"


def raising_router(
    code: grpc.StatusCode, *, details: str = "", trailing: tuple[tuple[str, str], ...] = ()
) -> APIRouter:
    """A test-only route that fails the way a later route's gRPC call would."""
    router = APIRouter()

    @router.get("/boom")
    async def boom() -> None:
        raise grpc.aio.AioRpcError(
            code, grpc.aio.Metadata(), grpc.aio.Metadata(*trailing), details=details
        )

    return router


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"https://fieldvault.dev/problems/{code}"
    assert body["title"]
    assert body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


@pytest.mark.parametrize(
    ("grpc_code", "http_status", "problem_code"),
    [
        (grpc.StatusCode.NOT_FOUND, 404, "not_found"),
        (grpc.StatusCode.INVALID_ARGUMENT, 400, "invalid_argument"),
        (grpc.StatusCode.ALREADY_EXISTS, 409, "already_exists"),
        (grpc.StatusCode.FAILED_PRECONDITION, 409, "failed_precondition"),
        (grpc.StatusCode.ABORTED, 409, "aborted"),
        (grpc.StatusCode.PERMISSION_DENIED, 403, "permission_denied"),
        (grpc.StatusCode.UNAUTHENTICATED, 401, "unauthenticated"),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 429, "rate_limited"),
        (grpc.StatusCode.UNAVAILABLE, 503, "unavailable"),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504, "deadline_exceeded"),
        (grpc.StatusCode.INTERNAL, 500, "internal"),
        (grpc.StatusCode.UNKNOWN, 500, "internal"),
        (grpc.StatusCode.UNIMPLEMENTED, 500, "internal"),
        (grpc.StatusCode.DATA_LOSS, 500, "internal"),
    ],
)
async def test_grpc_status_maps_to_documented_http_status(
    gateway: Any, grpc_code: grpc.StatusCode, http_status: int, problem_code: str
) -> None:
    router = raising_router(grpc_code, details="work order wo_1 was not found")
    async with gateway(extra_router=router) as client:
        response = await client.get("/boom")

    body = assert_problem(response, http_status, problem_code)
    if http_status < 500:
        assert body["detail"] == "work order wo_1 was not found"
    else:
        assert "wo_1" not in body["detail"]


async def test_code_comes_from_trailing_metadata(gateway: Any) -> None:
    router = raising_router(
        grpc.StatusCode.FAILED_PRECONDITION,
        details="a completed work order cannot be started",
        trailing=(("fieldvault-error-code", "invalid_transition"),),
    )
    async with gateway(extra_router=router) as client:
        response = await client.get("/boom")

    body = assert_problem(response, 409, "invalid_transition")
    assert body["title"] == "Invalid transition"
    assert body["detail"] == "a completed work order cannot be started"


@pytest.mark.parametrize(
    ("grpc_code", "code", "http_status"),
    [
        (grpc.StatusCode.FAILED_PRECONDITION, "precondition_failed", 412),
        (grpc.StatusCode.FAILED_PRECONDITION, "erased", 410),
        (grpc.StatusCode.INVALID_ARGUMENT, "payload_too_large", 413),
        (grpc.StatusCode.PERMISSION_DENIED, "no_active_grant", 403),
        # work_order's refusals; customer_vault's DPA refusal of a reveal stays a 403.
        (grpc.StatusCode.FAILED_PRECONDITION, "invalid_transition", 409),
        (grpc.StatusCode.FAILED_PRECONDITION, "dpa_inactive", 409),
        (grpc.StatusCode.PERMISSION_DENIED, "dpa_inactive", 403),
    ],
)
async def test_some_codes_have_their_own_http_status(
    gateway: Any, grpc_code: grpc.StatusCode, code: str, http_status: int
) -> None:
    router = raising_router(
        grpc_code,
        details="this customer's data was erased",
        trailing=(("fieldvault-error-code", code),),
    )
    async with gateway(extra_router=router) as client:
        response = await client.get("/boom")

    assert_problem(response, http_status, code)


async def test_a_known_problem_member_is_passed_on_and_nothing_else(gateway: Any) -> None:
    router = raising_router(
        grpc.StatusCode.PERMISSION_DENIED,
        details="read and acknowledge version 3 of the data-handling instructions first",
        trailing=(
            ("fieldvault-error-code", "instructions_not_acknowledged"),
            ("fieldvault-problem-instructions_version", "3"),
            ("fieldvault-problem-door_code", CANARY),
        ),
    )
    async with gateway(extra_router=router) as client:
        response = await client.get("/boom")

    body = assert_problem(response, 403, "instructions_not_acknowledged")
    assert body["instructions_version"] == 3
    assert set(body) == {
        "type",
        "title",
        "status",
        "detail",
        "code",
        "request_id",
        "instructions_version",
    }
    assert CANARY not in response.text


async def test_a_malformed_problem_member_is_dropped(gateway: Any) -> None:
    router = raising_router(
        grpc.StatusCode.PERMISSION_DENIED,
        trailing=(
            ("fieldvault-error-code", "instructions_not_acknowledged"),
            ("fieldvault-problem-instructions_version", "3; drop table"),
        ),
    )
    async with gateway(extra_router=router) as client:
        response = await client.get("/boom")

    body = assert_problem(response, 403, "instructions_not_acknowledged")
    assert "instructions_version" not in body


async def test_malformed_code_in_metadata_falls_back_to_the_status_default(gateway: Any) -> None:
    router = raising_router(
        grpc.StatusCode.NOT_FOUND, trailing=(("fieldvault-error-code", "Not A <Code>"),)
    )
    async with gateway(extra_router=router) as client:
        response = await client.get("/boom")

    assert_problem(response, 404, "not_found")


async def test_throttling_and_unavailability_tell_the_caller_when_to_retry(gateway: Any) -> None:
    async with gateway(
        extra_router=raising_router(
            grpc.StatusCode.RESOURCE_EXHAUSTED, trailing=(("fieldvault-retry-after", "30"),)
        )
    ) as client:
        throttled = await client.get("/boom")
    async with gateway(extra_router=raising_router(grpc.StatusCode.UNAVAILABLE)) as client:
        unavailable = await client.get("/boom")

    assert throttled.headers["retry-after"] == "30"
    assert unavailable.headers["retry-after"].isdigit()


async def test_server_error_details_never_reach_the_caller(gateway: Any) -> None:
    router = raising_router(grpc.StatusCode.INTERNAL, details=f"db said {CANARY}")
    async with gateway(extra_router=router) as client:
        response = await client.get("/boom")

    assert_problem(response, 500, "internal")
    assert CANARY not in response.text


async def test_unreachable_peer_is_named_without_its_address(
    gateway: Any, closed_address: Any
) -> None:
    router = APIRouter()

    @router.get("/who-am-i")
    async def who_am_i(identity: IdentityPeer) -> None:
        stub = health_pb2_grpc.HealthStub(identity.channel)
        await identity.call(stub.Check, health_pb2.HealthCheckRequest())

    address = closed_address()
    async with gateway({"identity": address}, extra_router=router) as client:
        response = await client.get("/who-am-i")

    body = assert_problem(response, 503, "unavailable")
    assert body["detail"] == "identity is temporarily unavailable"
    assert "retry-after" in response.headers
    assert address not in response.text
    assert "127.0.0.1" not in response.text


async def test_domain_error_from_a_real_service_keeps_its_code(
    gateway: Any, start_peer: Any
) -> None:
    async def assign(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        raise FailedPrecondition("the organisation has no active DPA", code="dpa_inactive")

    handler = grpc.method_handlers_generic_handler(
        "test.v1.WorkOrderService", {"Assign": grpc.unary_unary_rpc_method_handler(assign)}
    )
    work_order = await start_peer("work_order", generic_handlers=(handler,))

    router = APIRouter()

    @router.post("/assign")
    async def assign_route(work_orders: WorkOrderPeer) -> None:
        method = work_orders.channel.unary_unary("/test.v1.WorkOrderService/Assign")
        await work_orders.call(method, b"")

    async with gateway({"work_order": work_order.address}, extra_router=router) as client:
        response = await client.post("/assign")

    body = assert_problem(response, 409, "dpa_inactive")
    assert body["detail"] == "the organisation has no active DPA"


async def test_unhandled_exception_is_a_generic_500_logged_with_the_request_id(
    gateway: Any, caplog: pytest.LogCaptureFixture
) -> None:
    router = APIRouter()

    @router.get("/bug")
    async def bug() -> None:
        raise RuntimeError(f"secret leaked into a message: {CANARY}")

    with caplog.at_level(logging.ERROR, logger="gateway"):
        async with gateway(extra_router=router) as client:
            response = await client.get("/bug", headers={"X-Request-Id": "req-bug-1"})

    body = assert_problem(response, 500, "internal")
    assert CANARY not in response.text
    assert "Traceback" not in response.text
    assert body["request_id"] == "req-bug-1"
    logged = [r for r in caplog.records if r.name == "gateway.problems"]
    assert [getattr(r, "request_id", None) for r in logged] == ["req-bug-1"]


class SecretWrite(BaseModel):
    value: str = Field(max_length=8)
    pin: int


async def test_validation_errors_name_fields_without_echoing_input(gateway: Any) -> None:
    router = APIRouter()

    @router.put("/secret")
    async def put_secret(body: SecretWrite) -> None:
        return None

    async with gateway(extra_router=router) as client:
        response = await client.put("/secret", json={"value": CANARY, "pin": CANARY})

    body = assert_problem(response, 422, "validation_error")
    assert CANARY not in response.text
    assert {error["field"] for error in body["errors"]} == {"body.value", "body.pin"}
    assert all(error["message"] for error in body["errors"])


async def test_malformed_json_is_a_validation_problem(gateway: Any) -> None:
    router = APIRouter()

    @router.put("/secret")
    async def put_secret(body: SecretWrite) -> None:
        return None

    async with gateway(extra_router=router) as client:
        response = await client.put(
            "/secret",
            content=b'{"value": "' + CANARY.encode() + b'", ',
            headers={"content-type": "application/json"},
        )

    assert_problem(response, 422, "validation_error")
    assert CANARY not in response.text


async def test_framework_http_errors_are_problems(gateway: Any) -> None:
    async with gateway() as client:
        missing = await client.get("/v1/nothing-here")
        wrong_method = await client.delete("/healthz")

    assert_problem(missing, 404, "not_found")
    assert_problem(wrong_method, 405, "method_not_allowed")
    assert "GET" in wrong_method.headers["allow"]


async def test_gateway_raised_problem_keeps_its_code_and_headers(gateway: Any) -> None:
    router = APIRouter()

    @router.patch("/thing")
    async def patch_thing() -> None:
        raise Problem(412, "precondition_failed", "the etag is stale", headers={"ETag": '"v2"'})

    async with gateway(extra_router=router) as client:
        response = await client.patch("/thing")

    body = assert_problem(response, 412, "precondition_failed")
    assert body["detail"] == "the etag is stale"
    assert response.headers["etag"] == '"v2"'
