"""The chart's monitoring objects: off by default; when on, a PodMonitor for every
metrics port, a PrometheusRule Prometheus accepts, and one dashboard ConfigMap each.

The Prometheus Operator's CRD schemas are not bundled with kubernetes-validate,
so the two custom resources are checked against the fields of
``monitoring.coreos.com/v1`` the chart uses (strict: an unknown or misspelt
field fails), and the rule group itself by ``promtool check rules`` — the
check Prometheus applies when it loads the rules.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from chart_rendering import CHART, METRICS_COMPONENTS, Rendered, load_values, render

MONITORING_VALUES = CHART / "ci" / "monitoring-values.yaml"
DASHBOARD_FILES = sorted((CHART / "files" / "monitoring" / "dashboards").glob("*.json"))
MONITORING_KINDS = ("PodMonitor", "PrometheusRule")

_LABELS = {"type": "object", "additionalProperties": {"type": "string"}}
_METADATA = {
    "type": "object",
    "required": ["name", "namespace", "labels"],
    "properties": {"name": {"type": "string"}, "namespace": {"type": "string"}, "labels": _LABELS},
}
_DURATION = {"type": "string", "pattern": "^([0-9]+(ms|s|m|h|d|w|y))+$"}
POD_MONITOR = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "PodMonitor"},
        "metadata": _METADATA,
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["selector", "podMetricsEndpoints"],
            "properties": {
                "selector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "matchLabels": _LABELS,
                        "matchExpressions": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["key", "operator"],
                                "properties": {
                                    "key": {"type": "string"},
                                    "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
                                    "values": {"type": "array", "items": {"type": "string"}},
                                },
                            },
                        },
                    },
                },
                "podMetricsEndpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "port": {"type": "string"},
                            "interval": _DURATION,
                            "scrapeTimeout": _DURATION,
                            "relabelings": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "properties": {
                                        "sourceLabels": {
                                            "type": "array",
                                            "items": {"type": "string"},
                                        },
                                        "targetLabel": {"type": "string"},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}
PROMETHEUS_RULE = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "PrometheusRule"},
        "metadata": _METADATA,
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["groups"],
            "properties": {
                "groups": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name", "rules"],
                        "properties": {
                            "name": {"type": "string"},
                            "rules": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": ["alert", "expr"],
                                    "properties": {
                                        "alert": {"type": "string"},
                                        "expr": {"type": "string"},
                                        "for": _DURATION,
                                        "labels": _LABELS,
                                        "annotations": _LABELS,
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


@pytest.fixture(scope="module")
def monitored() -> Rendered:
    return render(load_values(MONITORING_VALUES), name="monitoring")


def test_no_monitoring_object_is_rendered_by_default(rendered: Rendered) -> None:
    if rendered.name == MONITORING_VALUES.stem:
        pytest.skip("the value set that turns monitoring on")
    assert [o["kind"] for o in rendered.objects if o["kind"] in MONITORING_KINDS] == []
    assert [o for o in rendered.of_kind("ConfigMap") if "grafana_dashboard" in str(o)] == []


def test_the_pod_monitor_scrapes_the_metrics_port_of_every_component_that_has_one(
    monitored: Rendered,
) -> None:
    [monitor] = monitored.of_kind("PodMonitor")
    jsonschema.validate(monitor, POD_MONITOR)
    [expression] = monitor["spec"]["selector"]["matchExpressions"]
    assert sorted(expression["values"]) == sorted(METRICS_COMPONENTS)
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    [endpoint] = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["port"] == "metrics"
    for component in METRICS_COMPONENTS:
        deployment = monitored.component("Deployment", component)
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert "metrics" in [port["name"] for port in container["ports"]]


def test_the_schema_check_catches_a_misspelt_field(monitored: Rendered) -> None:
    [monitor] = monitored.of_kind("PodMonitor")
    broken = json.loads(json.dumps(monitor))
    broken["spec"]["podMetricsEndpoints"][0]["intervall"] = "30s"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, POD_MONITOR)


def test_the_prometheus_rule_is_valid_and_links_every_alert_to_its_runbook(
    monitored: Rendered, tmp_path: Path
) -> None:
    [rule] = monitored.of_kind("PrometheusRule")
    jsonschema.validate(rule, PROMETHEUS_RULE)
    alerts = [r for group in rule["spec"]["groups"] for r in group["rules"]]
    assert len(alerts) >= 20
    base = load_values(MONITORING_VALUES)["monitoring"]["prometheusRule"]["runbookBaseUrl"]
    assert all(a["annotations"]["runbook_url"].startswith(base + "#") for a in alerts)
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("FIELDVAULT_REQUIRE_PROMTOOL") == "1":  # .ci/run sets it
            pytest.fail("promtool is missing: apt-get install prometheus")
        pytest.skip("promtool is not installed (apt-get install prometheus)")
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(yaml.safe_dump(rule["spec"]))
    checked = subprocess.run(
        [promtool, "check", "rules", str(rules_file)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_dashboard_is_a_configmap_for_the_grafana_sidecar(monitored: Rendered) -> None:
    maps = [o for o in monitored.of_kind("ConfigMap") if "-dashboard-" in o["metadata"]["name"]]
    assert len(maps) == len(DASHBOARD_FILES) >= 7
    titles = set()
    for config_map in maps:
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert config_map["metadata"]["annotations"]["grafana_folder"] == "fieldvault"
        [(key, text)] = config_map["data"].items()
        board: dict[str, Any] = json.loads(text)
        assert key == f"{key.removesuffix('.json')}.json" and board["uid"].startswith("fieldvault-")
        titles.add(board["title"])
    assert {"fieldvault / Overview", "fieldvault / Security"} <= titles


def test_a_pod_monitor_without_metrics_ports_is_refused() -> None:
    values = load_values(MONITORING_VALUES)
    values["global"] = {"metrics": {"enabled": False}}
    with pytest.raises(Exception, match=r"global\.metrics\.enabled"):
        render(values, name="no-metrics")
