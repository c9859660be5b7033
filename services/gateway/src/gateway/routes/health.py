"""Liveness and readiness probes.

``/healthz`` says the process can answer HTTP and touches nothing else, so a
slow peer never gets the gateway restarted. ``/readyz`` asks each peer's
standard ``grpc.health.v1`` service, concurrently, and names the peers (never
their addresses) with what it found. It also reports ``revocations``: whether
identity's revocation events reach this instance over NATS and it has caught
up with them. Without that, a logged-out or deactivated user's token could
pass here until it expires, so the instance does not take traffic.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from fieldvault_platform.grpc_client import HealthStatus, health_status
from gateway.auth import Auth
from gateway.dependencies import AllPeers, AppSettings

router = APIRouter(tags=["health"])


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    dependencies: dict[str, HealthStatus]


@router.get("/healthz", summary="Liveness: the process is up")
async def healthz() -> Liveness:
    return Liveness()


@router.get(
    "/readyz",
    summary="Readiness: every backing service is serving and revocations arrive",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "At least one dependency is not serving"}},
)
async def readyz(settings: AppSettings, peers: AllPeers, auth: Auth) -> JSONResponse:
    checked = peers.all()
    statuses = await asyncio.gather(
        *(
            health_status(peer.channel, timeout=settings.readiness_timeout_seconds)
            for peer in checked
        )
    )
    dependencies = {peer.name: status for peer, status in zip(checked, statuses, strict=True)}
    dependencies["revocations"] = auth.revocations_status()
    ready = all(status is HealthStatus.SERVING for status in dependencies.values())
    body = Readiness(status="ready" if ready else "not_ready", dependencies=dependencies)
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if ready else 503)
