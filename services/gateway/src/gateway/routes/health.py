"""Liveness and readiness probes.

``/healthz`` says the process can answer HTTP and touches nothing else, so a
slow peer never gets the gateway restarted. ``/readyz`` asks each peer's
standard ``grpc.health.v1`` service, concurrently, and names the peers (never
their addresses) with what it found.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Literal

import grpc
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import BaseModel

from gateway.dependencies import AllPeers, AppSettings
from gateway.peers import Peer

router = APIRouter(tags=["health"])


class DependencyStatus(StrEnum):
    SERVING = "serving"
    NOT_SERVING = "not_serving"
    UNREACHABLE = "unreachable"


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    dependencies: dict[str, DependencyStatus]


# Connection-level failures: the peer could not be reached or did not answer in time.
_UNREACHABLE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


async def probe(peer: Peer, *, deadline_seconds: float) -> DependencyStatus:
    # fieldvault_platform.grpc_client.check_health answers a bool, which cannot tell
    # "down" from "up but not serving"; operators need the difference, so ask directly.
    stub = health_pb2_grpc.HealthStub(peer.channel)
    try:
        response = await stub.Check(
            health_pb2.HealthCheckRequest(service=""), timeout=deadline_seconds
        )
    except grpc.aio.AioRpcError as exc:
        if exc.code() in _UNREACHABLE_CODES:
            return DependencyStatus.UNREACHABLE
        return DependencyStatus.NOT_SERVING
    if response.status == health_pb2.HealthCheckResponse.SERVING:
        return DependencyStatus.SERVING
    return DependencyStatus.NOT_SERVING


@router.get("/healthz", summary="Liveness: the process is up")
async def healthz() -> Liveness:
    return Liveness()


@router.get(
    "/readyz",
    summary="Readiness: every backing service is serving",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "At least one dependency is not serving"}},
)
async def readyz(settings: AppSettings, peers: AllPeers) -> JSONResponse:
    checked = peers.all()
    statuses = await asyncio.gather(
        *(probe(peer, deadline_seconds=settings.readiness_timeout_seconds) for peer in checked)
    )
    ready = all(status is DependencyStatus.SERVING for status in statuses)
    body = Readiness(
        status="ready" if ready else "not_ready",
        dependencies={peer.name: status for peer, status in zip(checked, statuses, strict=True)},
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if ready else 503)
