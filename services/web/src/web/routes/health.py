"""Liveness and readiness: ready when the gateway and the session bucket answer."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    gateway, sessions = await asyncio.gather(
        request.app.state.gateway.ready(), request.app.state.sessions.ready()
    )
    checks = {"gateway": gateway, "sessions": sessions}
    return JSONResponse(
        {"status": "ok" if all(checks.values()) else "unavailable", "checks": checks},
        status_code=200 if all(checks.values()) else 503,
    )
