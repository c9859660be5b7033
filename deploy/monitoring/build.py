"""Render the alerting rules and the dashboards into the Helm chart's files.

    .venv/bin/python deploy/monitoring/build.py          # (re)write them
    .venv/bin/python deploy/monitoring/build.py --check  # fail if they are stale

The chart ships what this writes (``deploy/helm/fieldvault/files/monitoring/``):
the rules in a PrometheusRule, each dashboard in a ConfigMap for Grafana's
dashboard sidecar. Edit ``slos.py``, ``alerts.py`` or ``dashboards.py``, never
the rendered files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from alerts import rule_groups
from dashboards import DASHBOARDS

OUT = Path(__file__).resolve().parents[1] / "helm" / "fieldvault" / "files" / "monitoring"
HEADER = (
    "# Rendered by deploy/monitoring/build.py: edit alerts.py / slos.py there, not this file.\n"
)


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]
    """Multi-line expressions as literal blocks, as one would write them by hand."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _string)


def rendered() -> dict[Path, str]:
    files = {
        OUT / "prometheus-rules.yaml": HEADER
        + yaml.dump({"groups": rule_groups()}, Dumper=_Dumper, sort_keys=False, width=1000),
    }
    for name, build in DASHBOARDS.items():
        files[OUT / "dashboards" / f"{name}.json"] = json.dumps(build(), indent=2) + "\n"
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a file is out of date")
    check = parser.parse_args().check
    stale = []
    for path, text in rendered().items():
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if check and stale:
        sys.stderr.write(
            "out of date (run deploy/monitoring/build.py): " + ", ".join(map(str, stale)) + "\n"
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
