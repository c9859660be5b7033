"""Every PromQL expression the chart ships parses, and each alert has a runbook section."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from monitoring_sources import (
    MONITORING,
    RULES_FILE,
    RUNBOOKS,
    expressions,
    metric_names,
    rules,
)


def test_every_rule_and_dashboard_expression_parses_and_names_a_metric() -> None:
    found = expressions()
    assert len(found) > 60
    unparsed, nameless = {}, []
    for where, expr in found.items():
        try:
            if not metric_names(expr):
                nameless.append(where)
        except ValueError as exc:
            unparsed[where] = str(exc)
    assert (unparsed, nameless) == ({}, [])


def test_a_broken_expression_is_caught_by_the_parser() -> None:
    with pytest.raises(ValueError):
        metric_names("sum(rate(fieldvault_reveals_total[5m])")  # an unclosed parenthesis


def test_every_alert_has_a_summary_a_description_and_a_runbook_section() -> None:
    headings = {
        re.sub(r"[^a-z0-9 -]", "", line.removeprefix("## ").strip().lower()).replace(" ", "-")
        for line in RUNBOOKS.read_text().splitlines()
        if line.startswith("## ")
    }
    missing = []
    for rule in rules():
        annotations = rule["annotations"]
        assert annotations["summary"] and annotations["description"], rule["alert"]
        assert rule["labels"]["severity"] in ("page", "ticket"), rule["alert"]
        anchor = annotations["runbook_url"].partition("#")[2]
        if anchor not in headings:
            missing.append(anchor)
    assert missing == []


def test_the_shipped_rules_and_dashboards_are_what_the_builders_render() -> None:
    built = subprocess.run(
        [sys.executable, str(MONITORING / "build.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    assert RULES_FILE.exists()
