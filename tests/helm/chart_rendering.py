"""Rendering the Helm chart for the tests: value sets, objects, the components.

``helm-python-sdk`` binds Helm's Go SDK (v4) through a shared library shipped
in its wheel: charts are linted and rendered offline, without a ``helm``
binary or a cluster.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "deploy" / "helm" / "fieldvault"
CI_VALUES = sorted((CHART / "ci").glob("*.yaml"))
RELEASE = "fv"
NAMESPACE = "fieldvault"

#: The six components as the chart names them, with their values key and port.
COMPONENTS = {
    "identity": ("identity", 17001),
    "customer-vault": ("customerVault", 17002),
    "work-order": ("workOrder", 17003),
    "notification": ("notification", 17004),
    "gateway": ("gateway", 8080),
    "web": ("web", 8080),
}
#: The components that serve HTTP; the ingress controller may reach them.
PUBLIC_COMPONENTS = ["gateway", "web"]
GRPC_COMPONENTS = [name for name in COMPONENTS if name not in PUBLIC_COMPONENTS]
DATABASE_OWNERS = GRPC_COMPONENTS
VAULT_USERS = {"identity", "customer-vault"}
#: Components serving Prometheus metrics on global.metrics.port (web serves none yet).
METRICS_COMPONENTS = [name for name in COMPONENTS if name != "web"]


@dataclass
class Rendered:
    """One value set: its values (as given and merged with the defaults) and the objects."""

    name: str
    values: dict[str, Any]
    merged: dict[str, Any]
    objects: list[dict[str, Any]]
    notes: str
    manifests: dict[str, str] = field(repr=False)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [obj for obj in self.objects if obj["kind"] == kind]

    def named(self, kind: str, name: str) -> dict[str, Any]:
        matches = [obj for obj in self.of_kind(kind) if obj["metadata"]["name"] == name]
        assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
        return matches[0]

    def component(self, kind: str, component: str) -> dict[str, Any]:
        return self.named(kind, f"{RELEASE}-fieldvault-{component}")

    def workloads(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """(object, pod spec) of every Deployment, Job and Pod, hooks included."""
        for obj in self.objects:
            if obj["kind"] in ("Deployment", "Job"):
                yield obj, obj["spec"]["template"]["spec"]
            elif obj["kind"] == "Pod":
                yield obj, obj["spec"]


def load_values(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text()) or {}


def render(values: dict[str, Any], *, name: str = "values") -> Rendered:
    with helm.Chart.load(str(CHART)) as chart:
        merged = chart.merge_values(values)
        manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    objects: list[dict[str, Any]] = []
    notes = ""
    for template, text in sorted(manifests.items()):
        if template.endswith("NOTES.txt"):
            notes = text
            continue
        for document in yaml.safe_load_all(text):
            if document:
                objects.append(document)
    return Rendered(name, values, merged, objects, notes, manifests)
