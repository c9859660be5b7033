"""Each burn-rate alert fires on a series that breaches its objective, and on no other.

Evaluated by Prometheus's own rule engine: ``promtool test rules`` (Debian's
``prometheus`` package) replays synthetic series minute by minute against the
shipped rule file, then compares the alerts firing at a point in time with the
expected ones, labels and annotations included. For every objective and every
window pair there are two cases: a *breach* (bad events at 1.5 times the
window's burn threshold) where that alert must fire, and a *good* run (bad
events at half the error budget) where no burn-rate alert may fire at all.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from monitoring_sources import RULES_FILE, alerts, slos

EVENTS_PER_MINUTE = 1000.0


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("FIELDVAULT_REQUIRE_PROMTOOL") == "1":  # .ci/run sets it
            pytest.fail("promtool is missing: apt-get install prometheus")
        pytest.skip("promtool is not installed (apt-get install prometheus)")
    return found


def _minutes(duration: str) -> int:
    value, unit = int(duration[:-1]), duration[-1]
    return value * {"m": 1, "h": 60, "d": 1440}[unit]


def _counter(labels: str, per_minute: float, samples: int, step: int) -> dict[str, str]:
    return {"series": labels, "values": f"0+{per_minute * step:g}x{samples}"}


def series_for(
    objective: slos.Objective, bad_fraction: float, samples: int, step: int
) -> list[dict[str, str]]:
    """Counters whose ratio of bad events is ``bad_fraction``, in the objective's metrics."""
    good, bad = EVENTS_PER_MINUTE * (1 - bad_fraction), EVENTS_PER_MINUTE * bad_fraction
    reveal = f'route="{slos.REVEAL_ROUTE}",method="POST"'
    if objective.name == "reveal_availability":
        return [
            _counter(f'http_server_requests_total{{{reveal},status="200"}}', good, samples, step),
            _counter(f'http_server_requests_total{{{reveal},status="503"}}', bad, samples, step),
        ]
    if objective.name == "notification_delivery":
        name = "fieldvault_notification_deliveries_settled_total"
        return [
            _counter(f'{name}{{channel="email",outcome="delivered"}}', good, samples, step),
            _counter(f'{name}{{channel="email",outcome="failed"}}', bad, samples, step),
            # Skipped deliveries count neither way.
            _counter(
                f'{name}{{channel="sms",outcome="skipped"}}', EVENTS_PER_MINUTE, samples, step
            ),
        ]
    histogram, selector, threshold = {
        "reveal_latency": ("http_server_request_duration_seconds", reveal, "1.0"),
        "my_work_orders_latency": (
            "http_server_request_duration_seconds",
            f'route="{slos.MY_WORK_ORDERS_ROUTE}",method="GET"',
            "0.5",
        ),
        "assignment_grant_latency": ("fieldvault_grant_delivery_seconds", 'kind="create"', "30.0"),
    }[objective.name]
    return [
        _counter(f'{histogram}_bucket{{{selector},le="{threshold}"}}', good, samples, step),
        _counter(f'{histogram}_bucket{{{selector},le="+Inf"}}', EVENTS_PER_MINUTE, samples, step),
        _counter(f"{histogram}_count{{{selector}}}", EVENTS_PER_MINUTE, samples, step),
    ]


def _expected(alert: alerts.Alert) -> dict[str, Any]:
    rule = alert.rule()
    return {"exp_labels": rule["labels"], "exp_annotations": rule["annotations"]}


def step_for(window: slos.BurnWindow) -> int:
    """Minutes between samples and evaluations: 1 for the hour windows, 10 for days."""
    return 10 if _minutes(window.long) >= 1440 else 1


def cases(objective: slos.Objective, window: slos.BurnWindow) -> list[dict[str, Any]]:
    """The breach that must fire this window's alert, and the good run that fires none."""
    ours = {a.name: a for a in alerts.burn_rate_alerts() if a.labels["slo"] == objective.name}
    name = slos.alert_name(objective, window)
    step = step_for(window)
    at = _minutes(window.long) + _minutes(window.for_) + 10 * step
    samples = at // step + 5
    breach = min(0.99, 1.5 * window.factor * objective.budget)
    return [
        {
            "name": f"{name} fires on a breach",
            "interval": f"{step}m",
            "input_series": series_for(objective, breach, samples, step),
            "alert_rule_test": [
                {"eval_time": f"{at}m", "alertname": name, "exp_alerts": [_expected(ours[name])]}
            ],
        },
        {
            "name": f"{name} stays silent within the objective",
            "interval": f"{step}m",
            "input_series": series_for(objective, 0.5 * objective.budget, samples, step),
            "alert_rule_test": [
                {"eval_time": f"{at}m", "alertname": other, "exp_alerts": []} for other in ours
            ],
        },
    ]


def run_promtool(
    tmp_path: Path, objective: slos.Objective, step: int, tests: list[dict[str, Any]]
) -> subprocess.CompletedProcess[str]:
    """promtool over the shipped rules of ``objective`` (the others select other metrics)."""
    shipped = yaml.safe_load(RULES_FILE.read_text())["groups"]
    rules = [
        r for g in shipped for r in g["rules"] if r.get("labels", {}).get("slo") == objective.name
    ]
    assert len(rules) == len(slos.BURN_WINDOWS)
    rule_file = tmp_path / "rules.yaml"
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": objective.name, "rules": rules}]}))
    spec = tmp_path / "burn-rate-test.yaml"
    spec.write_text(
        yaml.safe_dump(
            {"rule_files": [rule_file.name], "evaluation_interval": f"{step}m", "tests": tests}
        )
    )
    return subprocess.run(
        [_promtool(), "test", "rules", spec.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("window", slos.BURN_WINDOWS, ids=lambda w: f"{w.long}-{w.short}")
@pytest.mark.parametrize("objective", slos.OBJECTIVES, ids=lambda o: o.name)
def test_the_burn_rate_alert_fires_on_a_breach_and_stays_silent_within_the_objective(
    tmp_path: Path, objective: slos.Objective, window: slos.BurnWindow
) -> None:
    result = run_promtool(tmp_path, objective, step_for(window), cases(objective, window))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_the_evaluator_reports_an_alert_that_does_not_fire(tmp_path: Path) -> None:
    # The same machinery must fail when an expectation is wrong: the good run
    # expected to page.
    objective, window = slos.OBJECTIVES[0], slos.BURN_WINDOWS[0]
    breach, good = cases(objective, window)
    good["alert_rule_test"] = breach["alert_rule_test"]
    result = run_promtool(tmp_path, objective, step_for(window), [good])
    assert result.returncode != 0
    assert slos.alert_name(objective, window) in result.stdout + result.stderr
