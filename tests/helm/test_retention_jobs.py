"""The daily retention purges: a CronJob per purging service, customer-vault's as the
tables' owner and with its Vault identity, each allowed only its database (and Vault)."""

from __future__ import annotations

import copy
from typing import Any

from chart_rendering import CHART, RELEASE, Rendered, load_values, render

PURGING = {
    "customer-vault": "customer_vault",
    "work-order": "work_order",
    "notification": "notification",
}


def cronjob(rendered: Rendered, name: str) -> dict[str, Any]:
    return rendered.named("CronJob", f"{RELEASE}-fieldvault-{name}-retention")


def pod_of(job: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return spec


def test_each_purging_service_has_a_daily_job_that_never_runs_twice_at_once(
    rendered: Rendered,
) -> None:
    names = sorted(obj["metadata"]["name"] for obj in rendered.of_kind("CronJob"))
    assert names == sorted(f"{RELEASE}-fieldvault-{name}-retention" for name in PURGING)
    for name, module in PURGING.items():
        job = cronjob(rendered, name)
        assert job["spec"]["schedule"] == rendered.merged["retention"]["schedule"]
        assert job["spec"]["concurrencyPolicy"] == "Forbid"
        pod = pod_of(job)
        (container,) = pod["containers"]
        assert container["command"] == ["python", "-m", module, "purge-retention"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert pod["automountServiceAccountToken"] is (name == "customer-vault")


def test_customer_vaults_purge_connects_as_the_owner_the_others_as_the_service() -> None:
    values = copy.deepcopy(load_values(CHART / "ci" / "defaults-values.yaml"))
    values["customerVault"]["database"].update(
        migration={"secretName": "customer-vault-db-owner", "secretKey": "url"},
        runtimeRole="fieldvault_customer_vault",
    )
    rendered = render(values)
    (container,) = pod_of(cronjob(rendered, "customer-vault"))["containers"]
    env = {item["name"]: item for item in container["env"]}
    url = env["FIELDVAULT_CUSTOMER_VAULT_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert url["name"] == "customer-vault-db-owner"
    (container,) = pod_of(cronjob(rendered, "work-order"))["containers"]
    env = {item["name"]: item for item in container["env"]}
    url = env["FIELDVAULT_WORK_ORDER_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert url["name"] == values["workOrder"]["database"]["secretName"]


def test_a_purge_reaches_only_its_database_and_customer_vaults_also_vault(
    rendered: Rendered,
) -> None:
    if not rendered.merged["networkPolicy"]["enabled"]:
        return
    np = rendered.merged["networkPolicy"]
    for name in PURGING:
        policy = rendered.named("NetworkPolicy", f"{RELEASE}-fieldvault-{name}-retention")
        assert policy["spec"]["ingress"] == []
        ports = sorted(port["port"] for rule in policy["spec"]["egress"] for port in rule["ports"])
        expected = list(np["postgresql"]["ports"])
        if name == "customer-vault":
            expected += list(np["vault"]["ports"])
        assert ports == sorted(expected)


def test_the_purges_can_be_turned_off() -> None:
    values = copy.deepcopy(load_values(CHART / "ci" / "defaults-values.yaml"))
    values["retention"] = {**values.get("retention", {}), "enabled": False}
    rendered = render(values)
    assert rendered.of_kind("CronJob") == []
