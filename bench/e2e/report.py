"""The table (with ratios to each row's baseline) and the JSON result file."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from e2e.load import Result


@dataclass
class Row:
    result: Result
    #: The row this one is compared with (None: it is a baseline itself).
    baseline: Result | None = None
    group: str = ""

    def ratios(self) -> dict[str, float | None]:
        base = self.baseline
        if base is None:
            return {"p50": None, "p99": None, "throughput": None}

        def ratio(a: float, b: float) -> float | None:
            return None if not b or math.isnan(a) or math.isnan(b) else round(a / b, 2)

        return {
            "p50": ratio(self.result.p50_ms, base.p50_ms),
            "p99": ratio(self.result.p99_ms, base.p99_ms),
            "throughput": ratio(self.result.throughput, base.throughput)
            if self.result.throughput
            else None,
        }

    def as_json(self) -> dict[str, Any]:
        return {
            **self.result.as_json(),
            "group": self.group,
            "baseline": None
            if self.baseline is None
            else f"{self.baseline.name} x{self.baseline.clients}",
            "ratio": self.ratios(),
        }


def _fmt(value: float | None, digits: int = 1) -> str:
    return (
        "—"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else f"{value:.{digits}f}"
    )


def table(rows: list[Row]) -> str:
    header = (
        f"{'scenario':<34}{'clients':>8}{'n':>7}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}"
        f"{'failed':>8}  {'baseline':<22}{'xp50':>7}{'xp99':>7}{'xreq/s':>8}"
    )
    lines = [header, "-" * len(header)]
    group = None
    for row in rows:
        if row.group != group:
            group = row.group
            lines.append(f"[{group}]")
        r, ratios = row.result, row.ratios()
        base = "" if row.baseline is None else f"{row.baseline.name} x{row.baseline.clients}"
        lines.append(
            f"{r.name:<34}{r.clients:>8}{r.count:>7}{_fmt(r.p50_ms):>9}{_fmt(r.p99_ms):>9}"
            f"{_fmt(r.throughput or None):>9}{sum(r.failures.values()):>8}  {base:<22}"
            f"{_fmt(ratios['p50'], 2):>7}{_fmt(ratios['p99'], 2):>7}"
            f"{_fmt(ratios['throughput'], 2):>8}"
        )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    load = os.getloadavg()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_end": [round(x, 2) for x in load],
    }


def write_json(path: Path, settings: dict[str, Any], rows: list[Row]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"machine": machine(), "settings": settings, "rows": [r.as_json() for r in rows]}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
