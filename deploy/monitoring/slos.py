"""The service-level objectives (docs/slo.md) and their multi-window burn-rate alerts.

Each objective is a ratio of bad events to all events over a window, written
once as a PromQL template with ``{window}``; the burn-rate alerts follow the
multi-window, multi-burn-rate pattern: an alert fires only when both a long
and a short window burn the error budget faster than the factor, so it fires
fast on a sharp breach and stops soon after the breach ends.
"""

from __future__ import annotations

from dataclasses import dataclass

REVEAL_ROUTE = "/v1/sites/{site_id}/secrets/{kind}/reveal"
MY_WORK_ORDERS_ROUTE = "/v1/me/work-orders"


@dataclass(frozen=True)
class Objective:
    """``target`` of the events are good over ``period``; ``bad_ratio`` is PromQL with {window}."""

    name: str
    title: str
    target: float
    bad_ratio: str
    description: str
    period: str = "30d"

    @property
    def budget(self) -> float:
        return round(1.0 - self.target, 6)

    def ratio(self, window: str) -> str:
        return self.bad_ratio.replace("{window}", window)


@dataclass(frozen=True)
class BurnWindow:
    """One alerting condition: both windows burn faster than ``factor`` times the budget."""

    severity: str
    long: str
    short: str
    factor: float
    for_: str


#: The Site Reliability Workbook's windows for a 30-day objective: a page spends
#: 2 % (1 h) or 5 % (6 h) of the budget, a ticket 10 % (3 d).
BURN_WINDOWS = (
    BurnWindow("page", "1h", "5m", 14.4, "2m"),
    BurnWindow("page", "6h", "30m", 6.0, "15m"),
    BurnWindow("ticket", "3d", "6h", 1.0, "1h"),
)


def _http_errors(route: str) -> str:
    selector = f'route="{route}"'
    return (
        f'sum(rate(http_server_requests_total{{{selector},status=~"5.."}}[{{window}}]))'
        f" / sum(rate(http_server_requests_total{{{selector}}}[{{window}}]))"
    )


def _slower_than(histogram: str, selector: str, seconds: str) -> str:
    inner = f"{{{selector}}}" if selector else ""
    bucket = f'{{{selector + "," if selector else ""}le="{seconds}"}}'
    return (
        f"1 - (sum(rate({histogram}_bucket{bucket}[{{window}}]))"
        f" / sum(rate({histogram}_count{inner}[{{window}}])))"
    )


OBJECTIVES = (
    Objective(
        name="reveal_availability",
        title="Reveal availability",
        target=0.999,
        bad_ratio=_http_errors(REVEAL_ROUTE),
        description="99.9 % of reveal requests at the gateway are answered without a 5xx.",
    ),
    Objective(
        name="reveal_latency",
        title="Reveal latency",
        target=0.99,
        bad_ratio=_slower_than(
            "http_server_request_duration_seconds", f'route="{REVEAL_ROUTE}"', "1.0"
        ),
        description="99 % of reveal requests are answered within 1 s.",
    ),
    Objective(
        name="my_work_orders_latency",
        title="My work orders latency",
        target=0.99,
        bad_ratio=_slower_than(
            "http_server_request_duration_seconds", f'route="{MY_WORK_ORDERS_ROUTE}"', "0.5"
        ),
        description="99 % of a technician's job-list requests are answered within 0.5 s.",
    ),
    Objective(
        name="assignment_grant_latency",
        title="Assignment to grant latency",
        target=0.99,
        bad_ratio=_slower_than("fieldvault_grant_delivery_seconds", 'kind="create"', "30.0"),
        description="99 % of access grants are in force at customer-vault within 30 s of "
        "the assignment that asked for them.",
    ),
    Objective(
        name="notification_delivery",
        title="Notification delivery",
        target=0.99,
        bad_ratio=(
            'sum(rate(fieldvault_notification_deliveries_settled_total{outcome="failed"}[{window}]))'
            " / sum(rate(fieldvault_notification_deliveries_settled_total"
            '{outcome=~"delivered|failed"}[{window}]))'
        ),
        description="99 % of notifications (email, SMS, webhook) that could be sent are "
        "delivered within their retry schedule.",
    ),
)


def alert_name(objective: Objective, window: BurnWindow) -> str:
    camel = "".join(part.capitalize() for part in objective.name.split("_"))
    return f"Fieldvault{camel}BudgetBurn{window.long.capitalize()}"


def burn_rate_expr(objective: Objective, window: BurnWindow) -> str:
    threshold = round(window.factor * objective.budget, 8)
    return (
        f"({objective.ratio(window.long)}) > {threshold}\n"
        f"and\n({objective.ratio(window.short)}) > {threshold}"
    )
