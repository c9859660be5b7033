"""Real grpc.aio peers on free ports and an HTTP client bound to a gateway app."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest
from fastapi import APIRouter, FastAPI
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from fieldvault_platform.settings import Environment
from gateway.main import create_app
from gateway.settings import GatewaySettings

PEER_NAMES = ("identity", "customer_vault", "work_order", "notification")


@dataclass
class PeerServer:
    """A real gRPC server standing in for one backing service (health service only)."""

    name: str
    server: grpc.aio.Server
    health: health.aio.HealthServicer
    address: str

    async def set_serving(self, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        await self.health.set("", status)


StartPeer = Callable[..., Awaitable[PeerServer]]
#: Adds servicers to a server before it starts, e.g. ``add_IdentityServiceServicer_to_server``.
Register = Callable[[grpc.aio.Server], None]


@pytest.fixture
async def start_peer() -> AsyncIterator[StartPeer]:
    """``await start_peer(name, generic_handlers=..., register=...)``; servers stop when
    the test ends."""
    from fieldvault_platform.grpc_server import ErrorInterceptor

    started: list[PeerServer] = []

    async def start(
        name: str, *, generic_handlers: tuple[Any, ...] = (), register: Register | None = None
    ) -> PeerServer:
        # The services' own error interceptor, so error tests cross the real contract.
        server = grpc.aio.server(interceptors=[ErrorInterceptor()])
        servicer = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
        if generic_handlers:
            server.add_generic_rpc_handlers(generic_handlers)
        if register is not None:
            register(server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        peer = PeerServer(name=name, server=server, health=servicer, address=f"127.0.0.1:{port}")
        started.append(peer)
        await peer.set_serving(True)
        return peer

    try:
        yield start
    finally:
        for peer in started:
            await peer.server.stop(0)


@pytest.fixture
def closed_address() -> Callable[[], str]:
    """An address nobody listens on: a port the OS just handed out and we released."""

    def pick() -> str:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        return f"127.0.0.1:{port}"

    return pick


@pytest.fixture
async def peers(start_peer: StartPeer) -> dict[str, PeerServer]:
    """All four peers up and SERVING."""
    return {name: await start_peer(name) for name in PEER_NAMES}


#: Nobody listens here: without an explicit NATS the gateway runs without revocations
#: (and never reaches a developer's local stack on the default port).
NO_NATS = "nats://127.0.0.1:1"


def settings_for(addresses: dict[str, str], **overrides: Any) -> GatewaySettings:
    overrides.setdefault("nats_url", NO_NATS)
    return GatewaySettings(
        environment=Environment.TEST,
        identity_addr=addresses["identity"],
        customer_vault_addr=addresses["customer_vault"],
        work_order_addr=addresses["work_order"],
        notification_addr=addresses["notification"],
        readiness_timeout_seconds=1.0,
        # A real identity hashes passwords with argon2: on a loaded 2-core CI box a
        # sign-in can take seconds, and a test must not fail on the machine's speed.
        request_timeout_seconds=10.0,
        **overrides,
    )


@asynccontextmanager
async def serve(
    app: FastAPI, *, client: tuple[str, int] = ("127.0.0.1", 123)
) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan (opening its channels) and talk to it in-process.

    ``client`` is the socket peer the app sees (``request.client``).
    """
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield client


GatewayFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def gateway(closed_address: Callable[[], str]) -> GatewayFactory:
    """``async with gateway(addresses, extra_router=...) as client`` — a fresh app per use.

    ``addresses`` maps peer names to targets; peers left out get a closed port.
    """

    def factory(
        addresses: dict[str, str] | None = None,
        *,
        extra_router: APIRouter | None = None,
        client_address: tuple[str, int] = ("127.0.0.1", 123),
        **overrides: Any,
    ) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        chosen = {name: closed_address() for name in PEER_NAMES} | (addresses or {})
        app = create_app(settings_for(chosen, **overrides))
        if extra_router is not None:
            app.include_router(extra_router)
        return serve(app, client=client_address)

    return factory


@pytest.fixture
def live_gateway(closed_address: Callable[[], str]) -> Iterator[str]:
    """A gateway listening on a real loopback port (uvicorn in a thread); yields its base URL.

    For clients that must talk HTTP: a browser, a generated API client. Peers are
    closed ports and NATS is absent: only what needs no backend can succeed.
    """
    import threading
    import time

    import uvicorn

    app = create_app(settings_for({name: closed_address() for name in PEER_NAMES}))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the gateway did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)
