"""customer-vault's migrations can run as the tables' owner while the service runs as a
role that may only read and append the audit records (the migration grants it)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from chart_rendering import CHART, NAMESPACE, RELEASE, Rendered, helm, load_values, render

PREFIX = "FIELDVAULT_CUSTOMER_VAULT_"


def with_owner_role(**database: Any) -> dict[str, Any]:
    values = copy.deepcopy(load_values(CHART / "ci" / "defaults-values.yaml"))
    values["customerVault"]["database"].update(database)
    return values


def env(rendered: Rendered, kind: str, name: str) -> dict[str, dict[str, Any]]:
    (container,) = rendered.named(kind, f"{RELEASE}-fieldvault-{name}")["spec"]["template"]["spec"][
        "containers"
    ]
    return {item["name"]: item for item in container["env"]}


def test_the_migration_job_connects_as_the_owner_and_names_the_runtime_role() -> None:
    rendered = render(
        with_owner_role(
            migration={"secretName": "customer-vault-db-owner", "secretKey": "url"},
            runtimeRole="fieldvault_customer_vault",
        )
    )
    job = env(rendered, "Job", "customer-vault-migrate")
    server = env(rendered, "Deployment", "customer-vault")
    assert job[PREFIX + "DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "customer-vault-db-owner",
        "key": "url",
    }
    assert job[PREFIX + "RUNTIME_DATABASE_ROLE"]["value"] == "fieldvault_customer_vault"
    assert server[PREFIX + "DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "fieldvault-customer-vault-db",
        "key": "url",
    }
    assert PREFIX + "RUNTIME_DATABASE_ROLE" not in server
    # Everything else is the same settings; other services keep one URL.
    differing = {PREFIX + "DATABASE_URL", PREFIX + "RUNTIME_DATABASE_ROLE"}
    assert {k: v for k, v in job.items() if k not in differing} == {
        k: v for k, v in server.items() if k not in differing
    }
    identity_job = env(rendered, "Job", "identity-migrate")
    assert identity_job == env(rendered, "Deployment", "identity")


def test_without_an_owner_secret_the_job_uses_the_services_url() -> None:
    rendered = render(with_owner_role())
    assert env(rendered, "Job", "customer-vault-migrate") == env(
        rendered, "Deployment", "customer-vault"
    )


def test_an_owner_secret_without_a_runtime_role_is_refused() -> None:
    values = with_owner_role(
        migration={"secretName": "customer-vault-db-owner", "secretKey": "url"}
    )
    with helm.Chart.load(str(CHART)) as chart, pytest.raises(helm.HelmError) as failure:
        chart.render(values, name=RELEASE, namespace=NAMESPACE)
    assert "customerVault.database.runtimeRole is required" in str(failure.value)


def test_a_runtime_role_that_is_not_a_plain_identifier_fails_the_schema() -> None:
    values = with_owner_role(
        migration={"secretName": "customer-vault-db-owner", "secretKey": "url"},
        runtimeRole='x"; DROP ROLE postgres; --',
    )
    with helm.Chart.load(str(CHART)) as chart, pytest.raises(helm.HelmError):
        chart.render(values, name=RELEASE, namespace=NAMESPACE)
