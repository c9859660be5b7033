"""One user action is one trace, and every service counts what it does for Prometheus.

Every service runs as its own process and exports its spans over OTLP/gRPC to
a receiver in this test, as it would to a collector. A dispatcher assigns a
work order over REST; the trace that begins with the gateway's request spans
work-order (the RPC), customer-vault (the grant, created later by work-order's
background delivery), and notification (the event consumed from NATS and the
email sent later still) — one trace id, every span's parent in it.

The gateway's and work-order's metrics ports then count that request under its
route template and RPC method, and no id appears in either; the gateway's public
port serves no ``/metrics``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_devstack.identity_driver import IdentityDriver, Person
from fieldvault_devstack.otlp_receiver import OtlpReceiver, ReceivedSpan
from fieldvault_devstack.ports import free_port
from fieldvault_devstack.settings import DevStackSettings
from fieldvault_devstack.stack import LocalStack
from fieldvault_platform.grpc_client import open_channel

pytestmark = pytest.mark.stack

ASSIGN_ROUTE = "/v1/work-orders/{work_order_id}/assign"
WORK_ORDER_SERVICE = "fieldvault.work_order.v1.WorkOrderService"


class Platform:
    def __init__(
        self, stack: LocalStack, receiver: OtlpReceiver, metrics_ports: dict[str, int]
    ) -> None:
        self.stack = stack
        self.receiver = receiver
        self.metrics_ports = metrics_ports

    def metrics_url(self, service: str) -> str:
        return f"http://{self.stack.settings.host}:{self.metrics_ports[service]}/metrics"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    ports = {name: free_port() for name in DevStackSettings.model_fields if name.endswith("_port")}
    settings = DevStackSettings(
        data_dir=tmp_path_factory.mktemp("one-trace") / "dev",
        **ports,  # type: ignore[arg-type]
    )
    metrics_ports = {service: free_port() for service in ("gateway", "work_order", "notification")}
    with OtlpReceiver() as receiver, pytest.MonkeyPatch.context() as env:
        for name, value in receiver.env().items():
            env.setenv(name, value)
        for service, port in metrics_ports.items():
            env.setenv(f"FIELDVAULT_{service.upper()}_METRICS_PORT", str(port))
        env.setenv("FIELDVAULT_NOTIFICATION_DELIVERY_POLL_SECONDS", "0.1")
        stack = LocalStack(settings)
        stack.start()
        env.undo()
        try:
            yield Platform(stack, receiver, metrics_ports)
        finally:
            stack.stop()


def bearer(person: Person) -> dict[str, str]:
    return {"Authorization": f"Bearer {person.gateway_token}"}


def is_assignment(span: ReceivedSpan) -> bool:
    return (
        span.service == "gateway"
        and span.kind == "SERVER"
        and span.attributes.get("http.route") == ASSIGN_ROUTE
    )


def assignment_trace(spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
    """The spans of the first assignment's trace (none while its request span is missing)."""
    root = next((span for span in spans if is_assignment(span)), None)
    return [span for span in spans if root is not None and span.trace_id == root.trace_id]


def reaches_every_service(spans: list[ReceivedSpan]) -> bool:
    trace = assignment_trace(spans)
    ids = {span.span_id for span in trace}
    connected = all(span.parent_span_id in ids for span in trace if not is_assignment(span))
    return connected and all(expected(trace) for expected in EXPECTED.values())


def has(service: str, kind: str, name_part: str) -> object:
    def found(trace: list[ReceivedSpan]) -> bool:
        return any(s.service == service and s.kind == kind and name_part in s.name for s in trace)

    return found


#: What the assignment's trace must hold, each span in its own service.
EXPECTED = {
    "the gateway's request": has("gateway", "SERVER", ASSIGN_ROUTE),
    "the gateway's call to work-order": has("gateway", "CLIENT", "AssignWorkOrder"),
    "work-order's RPC": has("work_order", "SERVER", "AssignWorkOrder"),
    "work-order's event publish": has("work_order", "PRODUCER", "work_order.v1.assigned"),
    "customer-vault's grant": has("customer_vault", "SERVER", "CreateGrant"),
    "notification's consumer": has("notification", "CONSUMER", "work_order.v1.assigned"),
    "notification's email": has("notification", "CLIENT", "send email"),
}


async def assign_a_work_order(stack: LocalStack) -> tuple[str, str, str]:
    """A dispatcher files a job and assigns it; (site id, work order id, technician id)."""
    assert stack.endpoints is not None
    process = stack.identity_process()
    async with open_channel(process.addr) as channel:
        people = IdentityDriver(process, identity_pb2_grpc.IdentityServiceStub(channel))
        tenant = await people.new_tenant()
        north = await people.new_area(tenant, "North")
        dispatcher = await people.new_person(tenant, roles=["dispatcher"], area_ids=[north])
        technician = await people.new_person(tenant, roles=["technician"], area_ids=[north])

    async with httpx.AsyncClient(base_url=stack.endpoints.gateway_url, timeout=20) as http:
        office = bearer(dispatcher)
        customer = await http.post(
            "/v1/customers",
            json={"name": "Mrs Hudson", "email": "hudson@example.com", "area_id": north},
            headers=office,
        )
        assert customer.status_code == 201, customer.text
        site = await http.post(
            "/v1/sites",
            json={
                "customer_id": customer.json()["id"],
                "area_id": north,
                "name": "221B",
                "address": "221B Baker Street, London",
            },
            headers=office,
        )
        assert site.status_code == 201, site.text
        created = await http.post(
            "/v1/work-orders",
            json={"site_id": site.json()["id"], "title": "Lift stuck", "priority": "urgent"},
            headers=office,
        )
        assert created.status_code == 201, created.text
        order_id = created.json()["id"]
        assigned = await http.post(
            f"/v1/work-orders/{order_id}/assign",
            json={"assignee_user_id": technician.id},
            headers={**office, "If-Match": created.headers["ETag"]},
        )
        assert assigned.status_code == 200, assigned.text
    return site.json()["id"], order_id, technician.id


async def test_an_assignment_is_one_trace_through_every_service_it_touches(
    platform: Platform,
) -> None:
    await assign_a_work_order(platform.stack)

    try:
        spans = await asyncio.to_thread(
            platform.receiver.wait_for, reaches_every_service, timeout=30
        )
    except AssertionError:
        spans = platform.receiver.spans()  # the assertions below say what is missing

    trace = assignment_trace(spans)
    missing = [what for what, expected in EXPECTED.items() if not expected(trace)]
    ids = {span.span_id for span in trace}
    orphans = [s for s in trace if s.parent_span_id not in ids and not is_assignment(s)]
    seen = sorted({(s.service, s.kind, s.name) for s in trace})
    assert (missing, orphans) == ([], []), seen
    assert len({span.trace_id for span in trace}) == 1
    [root] = [span for span in trace if not span.parent_span_id]
    assert is_assignment(root), root
    # The gateway's span names the route template; the id is in no span name.
    assert root.name == f"POST {ASSIGN_ROUTE}"


def samples(text: str, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {
        frozenset(sample.labels.items()): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


async def test_requests_and_rpcs_are_counted_by_template_and_method_never_by_id(
    platform: Platform,
) -> None:
    stack = platform.stack
    assert stack.endpoints is not None
    site_id, order_id, technician_id = await assign_a_work_order(stack)

    async with httpx.AsyncClient(timeout=10) as http:
        public = await http.get(f"{stack.endpoints.gateway_url}/metrics")
        gateway = await http.get(platform.metrics_url("gateway"))
        work_order = await http.get(platform.metrics_url("work_order"))
        notification = await http.get(platform.metrics_url("notification"))
    assert public.status_code == 404
    assert gateway.status_code == 200 and gateway.headers["content-type"].startswith("text/plain")
    assert work_order.status_code == 200 and notification.status_code == 200

    requests = samples(gateway.text, "http_server_requests_total")
    assigned = frozenset({("method", "POST"), ("route", ASSIGN_ROUTE), ("status", "200")})
    assert requests[assigned] >= 1
    latency = samples(gateway.text, "http_server_request_duration_seconds_count")
    assert latency[assigned] == requests[assigned]

    rpcs = samples(work_order.text, "grpc_server_handled_total")
    ok = frozenset(
        {
            ("grpc_service", WORK_ORDER_SERVICE),
            ("grpc_method", "AssignWorkOrder"),
            ("grpc_code", "OK"),
        }
    )
    assert rpcs[ok] >= 1
    published = samples(work_order.text, "fieldvault_outbox_published_total")
    assert published[frozenset({("event_type", "fieldvault.work_order.v1.WorkOrderEvent")})] >= 2
    processed = samples(notification.text, "fieldvault_events_processed_total")
    assert any(dict(key)["outcome"] == "applied" and value >= 1 for key, value in processed.items())

    for text in (gateway.text, work_order.text, notification.text):
        for an_id in (site_id, order_id, technician_id):
            assert an_id not in text
