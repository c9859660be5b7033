"""No error body shows a stack trace, a Python type, a file path or a backend's address."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import grpc
from fastapi import APIRouter
from pydantic import BaseModel

from gateway.dependencies import IdentityPeer

INTERNAL_DETAIL = (
    'Traceback (most recent call last): File "/srv/gateway/routes/secret.py", line 7, '
    "psycopg.OperationalError: connection to 10.20.30.40:5432 failed"
)
DEBUG = "ipv4:10.20.30.40:17002 {grpc_status:14, created_time:...}"

#: What would betray the implementation: traces, paths, Python and gRPC internals, addresses.
_INTERNALS = re.compile(
    r"Traceback|File \"|\.py\b|/srv/|[A-Z][A-Za-z]*(Error|Exception)\b|AioRpc|PeerRpc|grpc_|"
    r"ipv4:|\b\d{1,3}(\.\d{1,3}){3}\b|:\d{4,5}\b|pydantic|errors\.pydantic\.dev"
)


def assert_no_internals(response: Any) -> None:
    assert response.headers["content-type"] == "application/problem+json"
    leaked = _INTERNALS.search(response.text)
    assert leaked is None, (leaked.group(0), response.text)


class Shape(BaseModel):
    count: int
    when: str


def failing_router() -> APIRouter:
    router = APIRouter()

    @router.get("/bug")
    async def bug() -> None:
        raise RuntimeError(INTERNAL_DETAIL)

    @router.get("/grpc/{code}")
    async def grpc_failure(code: str) -> None:
        raise grpc.aio.AioRpcError(
            grpc.StatusCode[code],
            grpc.aio.Metadata(),
            grpc.aio.Metadata(),
            details=INTERNAL_DETAIL,
            debug_error_string=DEBUG,
        )

    @router.post("/shape")
    async def shape(body: Shape) -> Shape:
        return body

    @router.get("/peer")
    async def peer(identity: IdentityPeer) -> None:
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        stub = health_pb2_grpc.HealthStub(identity.channel)
        await identity.call(stub.Check, health_pb2.HealthCheckRequest())

    return router


async def test_a_bug_answers_a_bare_500(gateway: Callable[..., Any]) -> None:
    async with gateway(extra_router=failing_router()) as client:
        response = await client.get("/bug")

    assert response.status_code == 500
    assert response.json()["detail"] == "an internal error occurred"
    assert_no_internals(response)


async def test_a_backend_failure_with_internal_details_shows_none_of_them(
    gateway: Callable[..., Any],
) -> None:
    async with gateway(extra_router=failing_router()) as client:
        answers = {
            code: await client.get(f"/grpc/{code}")
            for code in ("INTERNAL", "UNKNOWN", "DATA_LOSS", "UNAVAILABLE", "DEADLINE_EXCEEDED")
        }

    assert {code: r.status_code for code, r in answers.items()} == {
        "INTERNAL": 500,
        "UNKNOWN": 500,
        "DATA_LOSS": 500,
        "UNAVAILABLE": 503,
        "DEADLINE_EXCEEDED": 504,
    }
    for response in answers.values():
        assert_no_internals(response)


async def test_an_unreachable_backend_is_named_but_not_located(
    gateway: Callable[..., Any], closed_address: Callable[[], str]
) -> None:
    address = closed_address()
    async with gateway({"identity": address}, extra_router=failing_router()) as client:
        response = await client.get("/peer")

    assert response.status_code == 503
    assert response.json()["detail"] == "identity is temporarily unavailable"
    assert address not in response.text
    assert_no_internals(response)


async def test_validation_errors_show_where_and_what_but_no_internals(
    gateway: Callable[..., Any],
) -> None:
    async with gateway(extra_router=failing_router()) as client:
        wrong = await client.post("/shape", json={"count": "many", "extra": "x"})
        malformed = await client.post(
            "/shape", content=b'{"count": 1,', headers={"Content-Type": "application/json"}
        )

    assert wrong.status_code == malformed.status_code == 422
    assert {e["field"] for e in wrong.json()["errors"]} >= {"body.count", "body.when"}
    assert "many" not in wrong.text
    for response in (wrong, malformed):
        assert_no_internals(response)
        for error in response.json()["errors"]:
            assert set(error) == {"field", "message"}
