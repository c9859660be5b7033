"""What the chart ships for monitoring, as the tests read it: rules, dashboards, expressions.

The rendered files (deploy/helm/fieldvault/files/monitoring/) are read, not the
builders' objects: what is checked is what an operator installs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import promql_parser
import yaml

REPO = Path(__file__).resolve().parents[2]
MONITORING = REPO / "deploy" / "monitoring"
FILES = REPO / "deploy" / "helm" / "fieldvault" / "files" / "monitoring"
RULES_FILE = FILES / "prometheus-rules.yaml"
DASHBOARDS_DIR = FILES / "dashboards"
RUNBOOKS = REPO / "docs" / "runbooks.md"

sys.path.insert(0, str(MONITORING))

import alerts  # noqa: E402
import slos  # noqa: E402, F401  (re-exported for the tests)


def rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES_FILE.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboards() -> dict[str, dict[str, Any]]:
    return {
        path.stem: json.loads(path.read_text()) for path in sorted(DASHBOARDS_DIR.glob("*.json"))
    }


def panel_targets(board: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(panel, target) for every query of a dashboard, rows' nested panels included."""
    found = []
    for panel in board.get("panels", []):
        for inner in [panel, *(panel.get("panels") or [])]:
            found.extend((inner, target) for target in inner.get("targets") or [])
    return found


def expressions() -> dict[str, str]:
    """Every PromQL expression shipped, by where it is (``rule X``, ``dashboard Y: panel``)."""
    found = {f"rule {rule['alert']}": rule["expr"] for rule in rules()}
    for name, board in dashboards().items():
        for index, (panel, target) in enumerate(panel_targets(board)):
            found[f"dashboard {name}: {panel.get('title')} #{index}"] = target["expr"]
    return found


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (raises ValueError if it does not parse)."""
    names: set[str] = set()

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def named_metrics() -> set[str]:
    """Every metric the rules and dashboards name, other components' metrics left out."""
    names: set[str] = set()
    for expr in expressions().values():
        names |= metric_names(expr)
    return names - alerts.EXTERNAL_METRICS
