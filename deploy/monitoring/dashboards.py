"""The Grafana dashboards, built with grafana-foundation-sdk and rendered to JSON.

A platform overview, one dashboard per service and a security dashboard. Every
query reads the Prometheus data source chosen in the ``datasource`` variable;
latency panels ask for exemplars (the trace ids on the HTTP, gRPC, Vault and
audit histograms), so a point on them opens its trace in Tempo or Jaeger once
the data source's exemplar link is set (docs/slo.md, "Traces").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DashboardLinkType, DataSourceRef
from slos import MY_WORK_ORDERS_ROUTE, OBJECTIVES, REVEAL_ROUTE

DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
TAGS = ["fieldvault"]


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""
    #: True for histogram queries whose samples carry trace-id exemplars.
    exemplars: bool = False


@dataclass(frozen=True)
class Graph:
    title: str
    queries: tuple[Query, ...]
    unit: str = "short"
    description: str = ""
    single_stat: bool = False


def _target(query: Query, ref: str) -> prometheus.Dataquery:
    target = prometheus.Dataquery().expr(query.expr).ref_id(ref).exemplar(query.exemplars)
    if query.legend:
        target = target.legend_format(query.legend)
    return target.datasource(DATASOURCE)


def _panel(graph: Graph) -> Any:
    panel = (stat.Panel() if graph.single_stat else timeseries.Panel()).title(graph.title)
    panel = (
        panel.datasource(DATASOURCE)
        .unit(graph.unit)
        .height(8)
        .span(12 if not graph.single_stat else 6)
    )
    if graph.description:
        panel = panel.description(graph.description)
    for index, query in enumerate(graph.queries):
        panel = panel.with_target(_target(query, chr(ord("A") + index)))
    return panel


def _latency(title: str, histogram: str, selector: str, by: str = "") -> Graph:
    group = f"le{', ' + by if by else ''}"
    legend = f"{{{{{by}}}}} " if by else ""
    return Graph(
        title,
        tuple(
            Query(
                f"histogram_quantile({q}, sum by ({group}) "
                f"(rate({histogram}_bucket{{{selector}}}[5m])))",
                f"{legend}p{int(q * 100)}",
                exemplars=True,
            )
            for q in (0.5, 0.99)
        ),
        unit="s",
    )


def _build(uid: str, title: str, rows: dict[str, list[Graph]]) -> dict[str, Any]:
    board = (
        dashboard.Dashboard(title)
        .uid(uid)
        .tags(TAGS)
        .refresh("30s")
        .time("now-6h", "now")
        .timezone("browser")
        .with_variable(
            dashboard.DatasourceVariable("datasource").label("Data source").type("prometheus")
        )
        .links(
            [
                dashboard.DashboardLink("fieldvault")
                .type(DashboardLinkType.DASHBOARDS)
                .tags(TAGS)
                .as_dropdown(True)
                .keep_time(True)
                .include_vars(True)
            ]
        )
    )
    for row, graphs in rows.items():
        board = board.with_row(dashboard.Row(row))
        for graph in graphs:
            board = board.with_panel(_panel(graph))
    rendered: dict[str, Any] = json.loads(json.dumps(board.build(), cls=JSONEncoder))
    return rendered


def _grpc(service: str) -> list[Graph]:
    selector = f'grpc_service=~"fieldvault.{service}.v1.*"'
    return [
        Graph(
            "RPCs by method and code",
            (
                Query(
                    "sum by (grpc_method, grpc_code) "
                    f"(rate(grpc_server_handled_total{{{selector}}}[5m]))",
                    "{{grpc_method}} {{grpc_code}}",
                ),
            ),
            unit="reqps",
        ),
        _latency("RPC latency", "grpc_server_handling_seconds", selector, "grpc_method"),
    ]


def _backlogs(service: str) -> list[Graph]:
    return [
        Graph(
            "Outbox",
            (
                Query(f'fieldvault_outbox_pending{{service="{service}"}}', "pending"),
                Query(f'fieldvault_outbox_oldest_age_seconds{{service="{service}"}}', "oldest (s)"),
            ),
        ),
        Graph(
            "Consumers",
            (
                Query(
                    'sum by (consumer) (fieldvault_consumer_pending{consumer=~"'
                    + service
                    + '.*"})',
                    "{{consumer}} pending",
                ),
                Query(
                    'sum by (consumer) (fieldvault_events_parked{consumer=~"' + service + '.*"})',
                    "{{consumer}} parked",
                ),
                Query(
                    "sum by (consumer, outcome) (rate(fieldvault_events_processed_total"
                    f'{{consumer=~"{service}.*"}}[5m]))',
                    "{{consumer}} {{outcome}}",
                ),
            ),
        ),
    ]


def _vault() -> list[Graph]:
    return [
        Graph(
            "Vault calls by operation and outcome",
            (
                Query(
                    "sum by (operation, outcome) "
                    "(rate(fieldvault_vault_request_duration_seconds_count[5m]))",
                    "{{operation}} {{outcome}}",
                ),
            ),
            unit="reqps",
        ),
        _latency("Vault latency", "fieldvault_vault_request_duration_seconds", "", "operation"),
    ]


def _slo_graphs() -> list[Graph]:
    return [
        Graph(
            f"{objective.title} (objective {objective.target:.1%})",
            (
                Query(f"1 - ({objective.ratio('1h')})", "1h"),
                Query(f"1 - ({objective.ratio('1d')})", "1d"),
            ),
            unit="percentunit",
            description=objective.description,
        )
        for objective in OBJECTIVES
    ]


def overview() -> dict[str, Any]:
    return _build(
        "fieldvault-overview",
        "fieldvault / Overview",
        {
            "Objectives": _slo_graphs(),
            "Traffic": [
                Graph(
                    "Gateway requests by status",
                    (
                        Query(
                            "sum by (status) (rate(http_server_requests_total[5m]))", "{{status}}"
                        ),
                    ),
                    unit="reqps",
                ),
                _latency(
                    "Gateway latency", "http_server_request_duration_seconds", 'route!="unmatched"'
                ),
                Graph(
                    "RPC errors by service",
                    (
                        Query(
                            "sum by (grpc_service) (rate(grpc_server_handled_total"
                            '{grpc_code!~"OK|NOT_FOUND|'
                            "INVALID_ARGUMENT|PERMISSION_DENIED|UNAUTHENTICATED|FAILED_PRECONDITION|"
                            'ALREADY_EXISTS|ABORTED|RESOURCE_EXHAUSTED"}[5m]))',
                            "{{grpc_service}}",
                        ),
                    ),
                    unit="reqps",
                ),
            ],
            "Backlogs": [
                Graph(
                    "Outbox: oldest unpublished",
                    (
                        Query(
                            "max by (service) (fieldvault_outbox_oldest_age_seconds)", "{{service}}"
                        ),
                    ),
                    unit="s",
                ),
                Graph(
                    "Parked events",
                    (Query("sum by (consumer) (fieldvault_events_parked)", "{{consumer}}"),),
                ),
                Graph(
                    "Grant tasks",
                    (
                        Query("sum(fieldvault_grant_tasks_pending)", "pending"),
                        Query("max(fieldvault_grant_tasks_oldest_age_seconds)", "oldest (s)"),
                    ),
                ),
                Graph(
                    "Notifications",
                    (
                        Query(
                            "sum by (state, channel) (fieldvault_notification_deliveries)",
                            "{{channel}} {{state}}",
                        ),
                        Query("max(fieldvault_webhooks_disabled)", "webhooks disabled"),
                    ),
                ),
            ],
            "Vault": _vault(),
        },
    )


def identity() -> dict[str, Any]:
    return _build(
        "fieldvault-identity",
        "fieldvault / identity",
        {
            "RPCs": _grpc("identity"),
            "Sign-in and tokens": [
                Graph(
                    "Sign-ins by outcome",
                    (Query("sum by (outcome) (rate(fieldvault_logins_total[5m]))", "{{outcome}}"),),
                    unit="reqps",
                ),
                Graph(
                    "Token requests by grant and outcome",
                    (
                        Query(
                            "sum by (grant, outcome) (rate(fieldvault_token_exchanges_total[5m]))",
                            "{{grant}} {{outcome}}",
                        ),
                    ),
                    unit="reqps",
                ),
                Graph(
                    "DPAs lapsing within 30 days",
                    (Query("max(fieldvault_dpa_expiring)", "organisations"),),
                    single_stat=True,
                ),
            ],
            "Events": _backlogs("identity"),
            "Vault": _vault(),
        },
    )


def customer_vault() -> dict[str, Any]:
    return _build(
        "fieldvault-customer-vault",
        "fieldvault / customer-vault",
        {
            "RPCs": _grpc("customer_vault"),
            "Reveals": [
                Graph(
                    "Reveals by outcome and reason",
                    (
                        Query(
                            "sum by (outcome, reason) (rate(fieldvault_reveals_total[5m]))",
                            "{{outcome}} {{reason}}",
                        ),
                    ),
                    unit="reqps",
                ),
                _latency(
                    "Reveal latency at the gateway",
                    "http_server_request_duration_seconds",
                    f'route="{REVEAL_ROUTE}"',
                ),
                _latency("Audit append latency", "fieldvault_audit_append_duration_seconds", ""),
                Graph(
                    "Data-key cache hit ratio",
                    (
                        Query(
                            'sum(rate(fieldvault_data_key_cache_lookups_total{result="hit"}[5m]))'
                            " / sum(rate(fieldvault_data_key_cache_lookups_total[5m]))",
                            "hit ratio",
                        ),
                    ),
                    unit="percentunit",
                ),
            ],
            "Events": _backlogs("customer_vault"),
            "Vault": _vault(),
        },
    )


def work_order() -> dict[str, Any]:
    return _build(
        "fieldvault-work-order",
        "fieldvault / work-order",
        {
            "RPCs": _grpc("work_order"),
            "Grants": [
                Graph(
                    "Grant tasks",
                    (
                        Query("sum(fieldvault_grant_tasks_pending)", "pending"),
                        Query("max(fieldvault_grant_tasks_oldest_age_seconds)", "oldest (s)"),
                    ),
                ),
                _latency("Assignment to grant", "fieldvault_grant_delivery_seconds", "", "kind"),
                _latency(
                    "My work orders latency at the gateway",
                    "http_server_request_duration_seconds",
                    f'route="{MY_WORK_ORDERS_ROUTE}"',
                ),
            ],
            "Events": _backlogs("work_order"),
        },
    )


def notification() -> dict[str, Any]:
    return _build(
        "fieldvault-notification",
        "fieldvault / notification",
        {
            "RPCs": _grpc("notification"),
            "Deliveries": [
                Graph(
                    "Deliveries waiting or failed",
                    (
                        Query(
                            "sum by (state, channel) (fieldvault_notification_deliveries)",
                            "{{channel}} {{state}}",
                        ),
                    ),
                ),
                Graph(
                    "Deliveries settled",
                    (
                        Query(
                            "sum by (channel, outcome) "
                            "(rate(fieldvault_notification_deliveries_settled_total[5m]))",
                            "{{channel}} {{outcome}}",
                        ),
                    ),
                    unit="reqps",
                ),
                Graph(
                    "Webhooks disabled",
                    (Query("max(fieldvault_webhooks_disabled)", "disabled"),),
                    single_stat=True,
                ),
            ],
            "Events": _backlogs("notification"),
        },
    )


def gateway() -> dict[str, Any]:
    selector = 'route!="unmatched"'
    return _build(
        "fieldvault-gateway",
        "fieldvault / gateway",
        {
            "HTTP": [
                Graph(
                    "Requests by route and status",
                    (
                        Query(
                            "sum by (route, status) (rate(http_server_requests_total[5m]))",
                            "{{route}} {{status}}",
                        ),
                    ),
                    unit="reqps",
                ),
                _latency(
                    "Latency by route", "http_server_request_duration_seconds", selector, "route"
                ),
            ],
        },
    )


def security() -> dict[str, Any]:
    return _build(
        "fieldvault-security",
        "fieldvault / Security",
        {
            "Reveals": [
                Graph(
                    "Reveals by outcome",
                    (
                        Query(
                            "sum by (outcome) (increase(fieldvault_reveals_total[1h]))",
                            "{{outcome}}",
                        ),
                    ),
                ),
                Graph(
                    "Denials by reason",
                    (
                        Query(
                            "sum by (reason) "
                            '(increase(fieldvault_reveals_total{outcome="denied"}[1h]))',
                            "{{reason}}",
                        ),
                    ),
                ),
                Graph(
                    "Break-glass reveals (24 h)",
                    (
                        Query(
                            'sum(increase(fieldvault_reveals_total{outcome="break_glass"}[24h]))',
                            "break-glass",
                        ),
                    ),
                    single_stat=True,
                ),
            ],
            "Sign-in": [
                Graph(
                    "Sign-ins by outcome",
                    (
                        Query(
                            "sum by (outcome) (increase(fieldvault_logins_total[1h]))",
                            "{{outcome}}",
                        ),
                    ),
                ),
                Graph(
                    "Refused token requests",
                    (
                        Query(
                            "sum by (grant, outcome) (increase("
                            'fieldvault_token_exchanges_total{outcome!="ok"}[1h]))',
                            "{{grant}} {{outcome}}",
                        ),
                    ),
                ),
                Graph(
                    "Revocations",
                    (
                        Query(
                            "sum by (kind) (increase(fieldvault_revocations_total[1h]))", "{{kind}}"
                        ),
                    ),
                ),
            ],
        },
    )


#: File name (without .json) -> builder; each becomes one ConfigMap.
DASHBOARDS = {
    "overview": overview,
    "security": security,
    "gateway": gateway,
    "identity": identity,
    "customer-vault": customer_vault,
    "work-order": work_order,
    "notification": notification,
}


def expressions(board: dict[str, Any]) -> list[str]:
    """Every PromQL expression of a rendered dashboard."""
    found: list[str] = []
    for panel in board.get("panels", []):
        for target in panel.get("targets", []) or []:
            if target.get("expr"):
                found.append(target["expr"])
        for inner in panel.get("panels", []) or []:
            found.extend(t["expr"] for t in inner.get("targets", []) or [] if t.get("expr"))
    return found
