"""Readiness probes the launcher polls: grpc.health.v1 and the gateway's /readyz."""

from __future__ import annotations

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc


def grpc_serving(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when ``Health/Check`` for the whole server ("") answers SERVING."""
    with grpc.insecure_channel(f"{host}:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            response = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
        except grpc.RpcError:
            return False
    serving: bool = response.status == health_pb2.HealthCheckResponse.SERVING
    return serving


def http_ready(url: str, timeout: float = 1.0) -> bool:
    try:
        return httpx.get(url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False
