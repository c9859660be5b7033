"""Prometheus metrics: what every process counts, and how it is scraped.

Every label has a small, fixed set of values chosen by the code, never by a
caller: route templates (``/v1/work-orders/{work_order_id}``, not the path
with its id), registered gRPC methods, status codes, event types and consumer
names. Tenant ids, user ids and subjects (which carry the tenant) never
become labels, so the output holds nothing sensitive and its size does not
grow with the data.

Every service serves them on a port of its own, ``METRICS_PORT``
(``FIELDVAULT_<SERVICE>_METRICS_PORT``, off when unset), through
:func:`serve_metrics`: a gRPC service from :func:`fieldvault_platform.runtime.serve`,
the gateway from its app's lifespan. Never on a public port: an ingress routes
the public one, and scrapes need no route there
(:mod:`fieldvault_platform.http_metrics` only counts).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from threading import Thread
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)

log = logging.getLogger(__name__)

#: Latency buckets (seconds) for HTTP requests and RPCs: 5 ms to 10 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

#: The media type of :func:`exposition`.
CONTENT_TYPE = CONTENT_TYPE_LATEST

HTTP_REQUESTS = Counter(
    "http_server_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "http_server_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status code.",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
GRPC_HANDLED = Counter(
    "grpc_server_handled",
    "RPCs completed by the server, by service, method and status code.",
    ["grpc_service", "grpc_method", "grpc_code"],
)
GRPC_DURATION = Histogram(
    "grpc_server_handling_seconds",
    "Time to complete an RPC, by service, method and status code.",
    ["grpc_service", "grpc_method", "grpc_code"],
    buckets=LATENCY_BUCKETS,
)
EVENTS_PUBLISHED = Counter(
    "fieldvault_outbox_published",
    "Outbox events acknowledged by JetStream, by event type.",
    ["event_type"],
)
EVENTS_PROCESSED = Counter(
    "fieldvault_events_processed",
    "Events a consumer settled, by consumer and outcome "
    "(applied, duplicate, retried, parked, invalid).",
    ["consumer", "outcome"],
)


def exposition() -> bytes:
    """This process's metrics in the Prometheus text format."""
    return generate_latest(REGISTRY)


@dataclass
class MetricsServer:
    """The HTTP server of :func:`serve_metrics`, in a daemon thread of its own."""

    server: WSGIServer
    thread: Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_metrics(host: str, port: int) -> MetricsServer:
    """Serve :func:`exposition` at ``http://host:port/`` (any path); port 0 picks a free one."""
    server, thread = start_http_server(port, addr=host, registry=REGISTRY)
    metrics = MetricsServer(server, thread)
    log.info("metrics endpoint listening", extra={"address": f"{host}:{metrics.port}"})
    return metrics
