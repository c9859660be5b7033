"""One action is one trace: a gRPC call carries the caller's trace to the server,
and the server's database work joins it."""

from __future__ import annotations

import grpc
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import text

from fieldvault_platform import telemetry
from fieldvault_platform.db import Database
from fieldvault_platform.grpc_server import GrpcServer

SERVICE = "fieldvault.test.v1.TracedService"
CANARY = "CANARY-key-safe-code-8642"


async def test_a_grpc_call_and_the_servers_sql_are_one_trace_without_parameters(
    spans: InMemorySpanExporter, database_url: str
) -> None:
    telemetry.instrument_grpc()
    database = Database(database_url)
    telemetry.instrument_engine(database.engine)

    async def lookup(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        async with database.unit_of_work() as session:
            await session.execute(text("SELECT :value"), {"value": request.decode()})
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
    )
    await server.start()
    try:
        tracer = trace.get_tracer("test")
        with tracer.start_as_current_span("user action") as action:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
                assert (
                    await channel.unary_unary(f"/{SERVICE}/Lookup")(CANARY.encode(), timeout=5)
                    == b"ok"
                )
    finally:
        await server.stop()
        await database.dispose()

    finished = spans.get_finished_spans()
    trace_id = action.get_span_context().trace_id
    in_trace = [s for s in finished if s.context.trace_id == trace_id]
    client = next(s for s in in_trace if s.kind is SpanKind.CLIENT and "Lookup" in s.name)
    served = next(s for s in in_trace if s.kind is SpanKind.SERVER and "Lookup" in s.name)
    assert client.parent is not None and client.parent.span_id == action.get_span_context().span_id
    assert served.parent is not None and served.parent.span_id == client.context.span_id
    sql = [s for s in in_trace if s.attributes and "db.statement" in s.attributes]
    assert sql, "the server's SQL is traced inside the same trace"
    for span in finished:
        assert CANARY not in str(span.attributes) and CANARY not in span.name
