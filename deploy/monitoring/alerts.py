"""The alerting rules: burn-rate alerts per objective, then the operational alerts.

Every alert carries ``severity``, a ``summary``, a ``description`` and a
``runbook_url`` whose anchor is a ``## <section>`` heading of docs/runbooks.md
(``RUNBOOK_BASE_URL`` is replaced by the chart's
``monitoring.prometheusRule.runbookBaseUrl``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slos import BURN_WINDOWS, OBJECTIVES, alert_name, burn_rate_expr

RUNBOOK_PLACEHOLDER = "RUNBOOK_BASE_URL"

#: Metrics named by rules that another component exports, not a fieldvault service.
EXTERNAL_METRICS = {
    # cert-manager's exporter: the expiry of each Certificate it manages.
    "certmanager_certificate_expiration_timestamp_seconds",
}


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    summary: str
    description: str
    runbook: str
    severity: str = "ticket"
    for_: str = "5m"
    labels: dict[str, str] = field(default_factory=dict)

    def rule(self) -> dict[str, Any]:
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": self.for_,
            "labels": {"severity": self.severity, **self.labels},
            "annotations": {
                "summary": self.summary,
                "description": self.description,
                "runbook_url": f"{RUNBOOK_PLACEHOLDER}#{self.runbook.lower()}",
            },
        }


def burn_rate_alerts() -> list[Alert]:
    alerts = []
    for objective in OBJECTIVES:
        section = alert_name(objective, BURN_WINDOWS[0]).removesuffix("1h")
        for window in BURN_WINDOWS:
            alerts.append(
                Alert(
                    name=alert_name(objective, window),
                    expr=burn_rate_expr(objective, window),
                    summary=f"{objective.title}: error budget burning {window.factor:g}x "
                    f"too fast over {window.long}",
                    description=f"Objective: {objective.description} At this rate the "
                    f"{objective.period} budget lasts {_lasts(window.factor, objective.period)}.",
                    runbook=section,
                    severity=window.severity,
                    for_=window.for_,
                    labels={"slo": objective.name},
                )
            )
    return alerts


def _lasts(factor: float, period: str) -> str:
    days = int(period.removesuffix("d"))
    hours = days * 24 / factor
    return f"{hours:.0f} hours" if hours < 72 else f"{hours / 24:.0f} days"


OPERATIONAL_ALERTS = [
    Alert(
        name="FieldvaultOutboxBacklog",
        expr="max by (service) (fieldvault_outbox_oldest_age_seconds) > 300",
        summary="{{ $labels.service }}: outbox events unpublished for over 5 minutes",
        description="The oldest unpublished outbox row of {{ $labels.service }} is "
        "{{ $value | humanizeDuration }} old: NATS is unreachable or the relay is stuck.",
        runbook="FieldvaultOutboxBacklog",
        severity="page",
        for_="5m",
    ),
    Alert(
        name="FieldvaultGrantTasksStuck",
        expr="max(fieldvault_grant_tasks_oldest_age_seconds) > 300",
        summary="Access grants waiting for over 5 minutes",
        description="The oldest pending grant change has waited {{ $value | humanizeDuration }}: "
        "technicians assigned since cannot reveal their site's codes.",
        runbook="FieldvaultGrantTasksStuck",
        severity="page",
        for_="5m",
    ),
    Alert(
        name="FieldvaultConsumerLagging",
        expr="max by (consumer) (fieldvault_consumer_pending) > 1000",
        summary="{{ $labels.consumer }}: over 1000 events waiting",
        description="JetStream holds {{ $value }} messages for {{ $labels.consumer }}.",
        runbook="FieldvaultConsumerLagging",
        for_="15m",
    ),
    Alert(
        name="FieldvaultEventsParked",
        expr="sum by (consumer) "
        '(increase(fieldvault_events_processed_total{outcome="parked"}[15m])) > 0',
        summary="{{ $labels.consumer }}: events parked",
        description="{{ $value }} events were parked by {{ $labels.consumer }} in 15 minutes: "
        "their handler failed on every attempt; they wait for a replay.",
        runbook="FieldvaultEventsParked",
        for_="0m",
    ),
    Alert(
        name="FieldvaultWebhooksDisabled",
        expr="delta(fieldvault_webhooks_disabled[30m]) > 0",
        summary="Webhook subscriptions disabled after repeated failures",
        description="{{ $value }} more webhook subscriptions were disabled in 30 minutes.",
        runbook="FieldvaultWebhooksDisabled",
        for_="0m",
    ),
    Alert(
        name="FieldvaultNotificationBacklog",
        expr='sum(fieldvault_notification_deliveries{state="pending"}) > 500',
        summary="Over 500 notifications waiting to be sent",
        description="{{ $value }} deliveries are pending: the mail relay, SMS gateway or "
        "webhook receivers are slow or failing.",
        runbook="FieldvaultNotificationBacklog",
        for_="15m",
    ),
    Alert(
        name="FieldvaultVaultUnavailable",
        expr="sum by (outcome) (rate(fieldvault_vault_request_duration_seconds_count"
        '{outcome=~"unreachable|server_error"}[5m])) > 0',
        summary="Vault/OpenBao is unreachable or failing",
        description="Calls to Vault end in {{ $labels.outcome }}: reveals, sign-ins with "
        "one-time codes and audit appends fail.",
        runbook="FieldvaultVaultUnavailable",
        severity="page",
        for_="2m",
    ),
    Alert(
        name="FieldvaultVaultSealed",
        expr='sum(rate(fieldvault_vault_request_duration_seconds_count{outcome="sealed"}[5m])) > 0',
        summary="Vault/OpenBao is sealed",
        description="Vault answers that it is sealed: nothing can be encrypted or revealed "
        "until it is unsealed.",
        runbook="FieldvaultVaultSealed",
        severity="page",
        for_="1m",
    ),
    Alert(
        name="FieldvaultVaultSlow",
        expr="histogram_quantile(0.99, sum by (le, operation) "
        "(rate(fieldvault_vault_request_duration_seconds_bucket[10m]))) > 0.5",
        summary="Vault {{ $labels.operation }}: p99 above 0.5 s",
        description="The 99th percentile of {{ $labels.operation }} is {{ $value }} s.",
        runbook="FieldvaultVaultSlow",
        for_="15m",
    ),
    Alert(
        name="FieldvaultBreakGlassSpike",
        expr='sum(increase(fieldvault_reveals_total{outcome="break_glass"}[1h])) >= 3\n'
        'and\nsum(rate(fieldvault_reveals_total{outcome="break_glass"}[1h]))\n'
        '  > 4 * sum(rate(fieldvault_reveals_total{outcome="break_glass"}[7d]))',
        summary="Break-glass reveals far above their usual rate",
        description="{{ $value }} break-glass reveals in the last hour, over four times the "
        "weekly average. Each one is in the audit trail with its reason.",
        runbook="FieldvaultBreakGlassSpike",
        severity="page",
        for_="0m",
    ),
    Alert(
        name="FieldvaultRevealRateLimited",
        expr='sum(increase(fieldvault_reveals_total{outcome="denied",reason="rate_limited"}[15m]))'
        " > 0",
        summary="Someone hit the per-person reveal limit",
        description="{{ $value }} reveals were refused in 15 minutes for exceeding the "
        "per-person rate; a reveal-rate alert event names the person for the security team.",
        runbook="FieldvaultRevealRateLimited",
        for_="0m",
    ),
    Alert(
        name="FieldvaultRevealDenialsHigh",
        expr='sum(rate(fieldvault_reveals_total{outcome="denied"}[15m]))\n'
        "  / sum(rate(fieldvault_reveals_total[15m])) > 0.5\n"
        'and\nsum(increase(fieldvault_reveals_total{outcome="denied"}[15m])) > 20',
        summary="Over half of all reveals are refused",
        description="{{ $value | humanizePercentage }} of reveals were refused in 15 minutes.",
        runbook="FieldvaultRevealDenialsHigh",
        for_="10m",
    ),
    Alert(
        name="FieldvaultLoginsRefused",
        expr='sum(rate(fieldvault_logins_total{outcome!="ok"}[10m])) > 1',
        summary="Over one refused sign-in per second",
        description="{{ $value }} refused sign-ins per second: credential stuffing or a "
        "broken client.",
        runbook="FieldvaultLoginsRefused",
        for_="10m",
    ),
    Alert(
        name="FieldvaultDpaExpiringSoon",
        expr="max(fieldvault_dpa_expiring) > 0",
        summary="Data-processing agreements lapse within 30 days",
        description="{{ $value }} subcontractors' DPAs lapse within 30 days; their work "
        "orders return to the office when they do.",
        runbook="FieldvaultDpaExpiringSoon",
        for_="1h",
    ),
    Alert(
        name="FieldvaultCertificateExpiringSoon",
        expr="min by (name) (certmanager_certificate_expiration_timestamp_seconds)"
        " - time() < 14 * 86400",
        summary="Certificate {{ $labels.name }} expires within 14 days",
        description="cert-manager has not renewed {{ $labels.name }}; it expires in "
        "{{ $value | humanizeDuration }}.",
        runbook="FieldvaultCertificateExpiringSoon",
        for_="1h",
    ),
]


def rule_groups() -> list[dict[str, Any]]:
    return [
        {"name": "fieldvault-slo-burn-rate", "rules": [a.rule() for a in burn_rate_alerts()]},
        {"name": "fieldvault-operations", "rules": [a.rule() for a in OPERATIONAL_ALERTS]},
    ]


def all_alerts() -> list[Alert]:
    return [*burn_rate_alerts(), *OPERATIONAL_ALERTS]
