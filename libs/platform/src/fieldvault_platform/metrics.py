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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from threading import Thread
from wsgiref.simple_server import WSGIServer

from opentelemetry import trace
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)

from fieldvault_platform.errors import DomainError

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

# --- The operator's questions (docs/slo.md, docs/runbooks.md) -------------------
# Backlogs are gauges sampled from the service's own tables by
# :mod:`fieldvault_platform.backlog`; labels are the service or consumer name.

OUTBOX_PENDING = Gauge(
    "fieldvault_outbox_pending",
    "Outbox rows committed but not yet published to JetStream.",
    ["service"],
)
OUTBOX_OLDEST_AGE = Gauge(
    "fieldvault_outbox_oldest_age_seconds",
    "Age of the oldest unpublished outbox row (0 when none is waiting).",
    ["service"],
)
CONSUMER_PENDING = Gauge(
    "fieldvault_consumer_pending",
    "Messages JetStream holds for a durable consumer: not yet delivered or not yet acked.",
    ["consumer"],
)
EVENTS_PARKED = Gauge(
    "fieldvault_events_parked",
    "Events parked after their handler failed for the last time, by consumer.",
    ["consumer"],
)
GRANT_TASKS_PENDING = Gauge(
    "fieldvault_grant_tasks_pending",
    "Access-grant changes waiting to reach customer-vault.",
    ["service"],
)
GRANT_TASKS_OLDEST_AGE = Gauge(
    "fieldvault_grant_tasks_oldest_age_seconds",
    "Age of the oldest pending access-grant change (0 when none is waiting).",
    ["service"],
)
GRANT_DELIVERY_DURATION = Histogram(
    "fieldvault_grant_delivery_seconds",
    "From the change that queued an access grant (an assignment) until customer-vault "
    "applied it, by kind (create, revoke).",
    ["kind"],
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0),
)
NOTIFICATION_DELIVERIES = Gauge(
    "fieldvault_notification_deliveries",
    "Notification deliveries by state (pending, failed) and channel.",
    ["state", "channel"],
)
NOTIFICATIONS_SETTLED = Counter(
    "fieldvault_notification_deliveries_settled",
    "Notification deliveries that reached a final state, by channel (email, sms, webhook) "
    "and outcome (delivered, failed, skipped).",
    ["channel", "outcome"],
)
WEBHOOKS_DISABLED = Gauge(
    "fieldvault_webhooks_disabled",
    "Webhook subscriptions disabled after repeated delivery failures.",
)
DPA_EXPIRING = Gauge(
    "fieldvault_dpa_expiring",
    "Organisations whose data-processing agreement lapses within the warning window.",
)

#: Buckets (seconds) for calls to Vault and audit appends: 1 ms to 5 s.
DEPENDENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

VAULT_DURATION = Histogram(
    "fieldvault_vault_request_duration_seconds",
    "Time of one Vault/OpenBao call, by operation (never a key name) and outcome "
    "(ok, unreachable, sealed, server_error, refused, failed).",
    ["operation", "outcome"],
    buckets=DEPENDENCY_BUCKETS,
)
DATA_KEY_CACHE = Counter(
    "fieldvault_data_key_cache_lookups",
    "Look-ups of unwrapped data keys in customer-vault's cache, by result (hit, miss).",
    ["result"],
)
REVEALS = Counter(
    "fieldvault_reveals",
    "Secret reveals by outcome (granted, break_glass, denied) and reason (none when granted).",
    ["outcome", "reason"],
)
AUDIT_APPEND_DURATION = Histogram(
    "fieldvault_audit_append_duration_seconds",
    "Time to append one record to the audit trail.",
    buckets=DEPENDENCY_BUCKETS,
)
LOGINS = Counter(
    "fieldvault_logins",
    "Sign-in attempts by outcome: ok, or the stable error code (invalid_credentials, "
    "mfa_required, rate_limited, ...).",
    ["outcome"],
)
TOKEN_EXCHANGES = Counter(
    "fieldvault_token_exchanges",
    "Token requests other than sign-in, by grant (refresh, client_credentials, service, "
    "exchange, step_up) and outcome (ok, or the stable error code).",
    ["grant", "outcome"],
)
REVOCATIONS = Counter(
    "fieldvault_revocations",
    "Sessions, tokens or clients revoked, by kind.",
    ["kind"],
)


def trace_exemplar() -> dict[str, str] | None:
    """The current trace's id as an exemplar, so a latency panel links to the trace.

    Served only in the OpenMetrics format (a Prometheus with exemplar storage
    asks for it); a random id, nothing about who made the request.
    """
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return {"trace_id": format(context.trace_id, "032x")}


def outcome_of(exc: BaseException | None) -> str:
    """A bounded outcome label: ``ok``, a domain error's stable code, or ``error``.

    Codes are literals in the code (``invalid_credentials``), never built from input.
    """
    if exc is None:
        return "ok"
    if isinstance(exc, DomainError):
        return exc.code
    return "error"


@contextmanager
def counted(counter: Counter, *labels: str) -> Iterator[None]:
    """Count one attempt on ``counter`` with ``labels`` and its outcome as the last label."""
    try:
        yield
    except BaseException as exc:
        counter.labels(*labels, outcome_of(exc)).inc()
        raise
    counter.labels(*labels, "ok").inc()


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
