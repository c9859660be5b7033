"""checkov (the Kubernetes framework) finds nothing on the rendered manifests of
every value set; the few checks that do not fit are skipped here with a reason,
and the in-chart skips are exactly the documented ones."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from chart_rendering import RELEASE, VAULT_USERS, Rendered

CHECKOV = Path(sys.executable).with_name("checkov")

#: Checks skipped for the whole chart, each with its reason.
SKIPPED_CHECKS = {
    "CKV_K8S_15": (
        "imagePullPolicy Always: images are immutable release tags (the schema refuses "
        "`latest`), and IfNotPresent lets pods restart while the registry is unreachable; "
        "global.image.pullPolicy can say Always"
    ),
    "CKV_K8S_35": (
        "secrets as files: the services read their settings (pydantic-settings) from "
        "environment variables only; every secret comes from a secretKeyRef, none is inlined"
    ),
    "CKV_K8S_43": (
        "image digests: images are release tags; to pin a digest set image.tag to "
        "`<version>@sha256:<digest>`"
    ),
}
#: Skips annotated on objects of the chart (checkov.io/skipN), by object name.
ANNOTATED_SKIPS = {
    **{f"{RELEASE}-fieldvault-{name}": {"CKV_K8S_38"} for name in VAULT_USERS},
    # customer-vault's retention purge MACs the audit checkpoint in Vault.
    f"{RELEASE}-fieldvault-customer-vault-retention": {"CKV_K8S_38"},
    f"{RELEASE}-fieldvault-test": {"CKV_K8S_8", "CKV_K8S_9"},
}


@pytest.fixture(scope="module")
def scan(rendered_sets: dict[str, Rendered], tmp_path_factory: pytest.TempPathFactory) -> Any:
    if not CHECKOV.exists():
        pytest.fail(f"checkov is not installed next to {sys.executable}: run `make install`")
    root = tmp_path_factory.mktemp("manifests")
    count = 0
    for name, rendered in rendered_sets.items():
        folder = root / name
        folder.mkdir()
        for template, text in rendered.manifests.items():
            if template.endswith(".yaml") and text.strip():
                (folder / template.replace("/", "__")).write_text(text)
        count += len(rendered.objects)
    completed = subprocess.run(
        [
            str(CHECKOV),
            "--directory",
            str(root),
            "--framework",
            "kubernetes",
            "--output",
            "json",
            "--compact",
            "--skip-download",
            "--skip-check",
            ",".join(SKIPPED_CHECKS),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(completed.stdout)
    reports = report if isinstance(report, list) else [report]
    (kubernetes,) = [r for r in reports if r["check_type"] == "kubernetes"]
    return kubernetes, count


def test_checkov_scanned_every_rendered_object(scan: Any) -> None:
    report, count = scan
    assert report["summary"]["resource_count"] >= count * 0.9
    # Every object gets a few dozen checks; a scan that parsed nothing passes none.
    assert report["summary"]["passed"] >= 10 * count
    assert len(report["results"]["passed_checks"]) == report["summary"]["passed"]


def test_checkov_finds_nothing(scan: Any) -> None:
    report, _ = scan
    failed = [
        f"{check['check_id']} {check['check_name']} on {check['resource']} ({check['file_path']})"
        for check in report["results"]["failed_checks"]
    ]
    assert failed == []
    assert report["summary"]["parsing_errors"] == 0


def test_only_the_documented_checks_are_skipped_in_the_chart(scan: Any) -> None:
    report, _ = scan
    for check in report["results"]["skipped_checks"]:
        name = check["resource"].rsplit(".", 1)[-1]
        allowed = ANNOTATED_SKIPS.get(name, set()) | set(SKIPPED_CHECKS)
        assert check["check_id"] in allowed, f"{check['check_id']} skipped on {name}"
        if check["check_id"] not in SKIPPED_CHECKS:
            reason = check["check_result"].get("suppress_comment")
            assert reason, f"{check['check_id']} on {name} has no reason"
