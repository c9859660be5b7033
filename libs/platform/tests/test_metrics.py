"""Prometheus metrics: RPCs by method and code, HTTP requests by route template — never by id."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from fieldvault_platform import http_metrics
from fieldvault_platform.errors import NotFound
from fieldvault_platform.grpc_metrics import MetricsInterceptor
from fieldvault_platform.grpc_server import GrpcServer
from fieldvault_platform.metrics import serve_metrics

SERVICE = "fieldvault.test.v1.MeteredService"
#: An id a caller sends: it must never become a label value.
THING_ID = "3f0c2a9e-6b1d-4c55-9a7e-000000000042"


def samples(text: str, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {
        frozenset(sample.labels.items()): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def labels(**values: str) -> frozenset[tuple[str, str]]:
    return frozenset(values.items())


@pytest.fixture
async def metered_server() -> AsyncIterator[grpc.aio.Channel]:
    async def lookup(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        if request == b"missing":
            raise NotFound("no such thing")
        if request == b"aborted":
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "no")
        return b"ok"

    handler = grpc.unary_unary_rpc_method_handler(
        lookup, request_deserializer=lambda b: b, response_serializer=lambda b: b
    )
    server = GrpcServer(
        host="127.0.0.1",
        port=0,
        registrars=[
            lambda s: s.add_generic_rpc_handlers(
                (grpc.method_handlers_generic_handler(SERVICE, {"Lookup": handler}),)
            )
        ],
        service_names=[SERVICE],
        interceptors=[MetricsInterceptor()],
    )
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            yield channel
    finally:
        await server.stop()


async def test_rpcs_are_counted_by_method_and_status_code_on_the_metrics_port(
    metered_server: grpc.aio.Channel,
) -> None:
    metrics = serve_metrics("127.0.0.1", 0)
    try:
        async with httpx.AsyncClient() as http:

            async def scrape() -> dict[frozenset[tuple[str, str]], float]:
                answer = await http.get(f"http://127.0.0.1:{metrics.port}/metrics")
                assert answer.status_code == 200
                assert THING_ID not in answer.text
                return samples(answer.text, "grpc_server_handled_total")

            before = await scrape()
            lookup = metered_server.unary_unary(f"/{SERVICE}/Lookup")
            assert await lookup(THING_ID.encode(), timeout=5) == b"ok"
            for request, code in ((b"missing", "NOT_FOUND"), (b"aborted", "PERMISSION_DENIED")):
                with pytest.raises(grpc.aio.AioRpcError) as failed:
                    await lookup(request, timeout=5)
                assert failed.value.code().name == code
            unknown = metered_server.unary_unary(f"/{SERVICE}/{THING_ID}")
            with pytest.raises(grpc.aio.AioRpcError):
                await unknown(b"", timeout=5)
            after = await scrape()
    finally:
        metrics.stop()

    def increase(code: str) -> float:
        key = labels(grpc_service=SERVICE, grpc_method="Lookup", grpc_code=code)
        return after.get(key, 0) - before.get(key, 0)

    assert [increase(c) for c in ("OK", "NOT_FOUND", "PERMISSION_DENIED")] == [1, 1, 1]
    # The unregistered method was refused by gRPC itself and is no label.
    assert all(dict(key)["grpc_method"] == "Lookup" for key in after if SERVICE in str(key))


def thing_app() -> FastAPI:
    app = FastAPI()

    @app.get("/v1/things/{thing_id}")
    async def get_thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    @app.get("/v1/broken")
    async def broken() -> None:
        raise RuntimeError("boom")

    http_metrics.instrument_app(app)
    return app


async def test_requests_are_counted_by_route_template_method_and_status_never_by_path() -> None:
    metrics = serve_metrics("127.0.0.1", 0)
    transport = httpx.ASGITransport(app=thing_app(), raise_app_exceptions=False)
    try:
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://test") as http,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{metrics.port}") as scraper,
        ):
            before = samples((await scraper.get("/metrics")).text, "http_server_requests_total")
            assert (await http.get(f"/v1/things/{THING_ID}")).status_code == 200
            assert (await http.delete(f"/v1/things/{THING_ID}")).status_code == 405
            assert (await http.get(f"/v1/unknown/{THING_ID}")).status_code == 404
            assert (await http.request("BREW", f"/v1/things/{THING_ID}")).status_code == 405
            assert (await http.get("/v1/broken")).status_code == 500
            exposed = await scraper.get("/metrics")
    finally:
        metrics.stop()
    assert exposed.headers["content-type"].startswith("text/plain")
    after = samples(exposed.text, "http_server_requests_total")

    template = "/v1/things/{thing_id}"
    expected = [
        labels(method="GET", route=template, status="200"),
        labels(method="DELETE", route=template, status="405"),
        labels(method="GET", route=http_metrics.UNMATCHED, status="404"),
        labels(method="other", route=template, status="405"),
        labels(method="GET", route="/v1/broken", status="500"),
    ]
    assert [after.get(key, 0) - before.get(key, 0) for key in expected] == [1, 1, 1, 1, 1]
    durations = samples(exposed.text, "http_server_request_duration_seconds_count")
    assert durations[expected[0]] == after[expected[0]]
    assert THING_ID not in exposed.text and "BREW" not in exposed.text


async def test_an_instrumented_app_serves_no_metrics_on_its_own_port() -> None:
    transport = httpx.ASGITransport(app=thing_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        answer = await http.get("/metrics")
    assert answer.status_code == 404
    assert "http_server_requests" not in answer.text
