"""The chart lints, renders valid Kubernetes objects for every value set, and wires
each service to its peers and dependencies by value, secrets only by reference."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
from chart_rendering import (
    CHART,
    COMPONENTS,
    DATABASE_OWNERS,
    NAMESPACE,
    RELEASE,
    VAULT_USERS,
    Rendered,
    helm,
    load_values,
)

#: Kubernetes release whose bundled JSON schemas the objects must satisfy (strict:
#: an unknown or misspelt field fails too).
KUBERNETES_VERSION = "1.34.0"
#: Custom resources whose schemas kubernetes-validate does not ship (the monitoring
#: ones are checked in test_monitoring_objects.py).
CUSTOM_KINDS = {"HTTPRoute", "PodMonitor", "PrometheusRule"}
STANDARD_LABELS = (
    "helm.sh/chart",
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
)
#: Suffixes of environment variables that carry a secret (or a digest of one).
SECRET_SUFFIXES = ("DATABASE_URL", "_SECRET", "_SECRET_KEY", "_SHA256", "PASSWORD", "TOKEN")


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container.get("env", [])}


def main_container(rendered: Rendered, component: str) -> dict[str, Any]:
    deployment = rendered.component("Deployment", component)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_chart_lints_without_warnings_for_every_value_set(rendered: Rendered) -> None:
    report = helm.lint(str(CHART), rendered.values, strict=True, namespace=NAMESPACE)
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert report["errors"] == [] and problems == [], report


def test_every_object_is_valid_against_the_kubernetes_schemas(rendered: Rendered) -> None:
    checked = 0
    for obj in rendered.objects:
        if obj["kind"] in CUSTOM_KINDS:
            continue
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        checked += 1
    assert checked >= 20


def test_every_object_carries_the_standard_labels_and_the_release_namespace(
    rendered: Rendered,
) -> None:
    for obj in rendered.objects:
        labels = obj["metadata"].get("labels", {})
        missing = [label for label in STANDARD_LABELS if label not in labels]
        assert not missing, f"{obj['kind']} {obj['metadata']['name']} lacks {missing}"
        assert labels["app.kubernetes.io/instance"] == RELEASE
        assert obj["metadata"]["namespace"] == NAMESPACE


def test_each_service_is_a_deployment_service_account_service_pdb_and_network_policy(
    rendered: Rendered,
) -> None:
    kinds = ["Deployment", "Service", "ServiceAccount", "PodDisruptionBudget"]
    if rendered.merged["networkPolicy"]["enabled"]:
        kinds.append("NetworkPolicy")
    for component in COMPONENTS:
        for kind in kinds:
            obj = rendered.component(kind, component)
            labels = obj["metadata"]["labels"]
            assert labels["app.kubernetes.io/component"] == component, (kind, component)
        # Each of them selects that component's pods and no other's.
        deployment = rendered.component("Deployment", component)
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector["app.kubernetes.io/component"] == component
        assert rendered.component("Service", component)["spec"]["selector"] == selector
        pdb = rendered.component("PodDisruptionBudget", component)
        assert pdb["spec"]["selector"]["matchLabels"] == selector
    assert len(rendered.of_kind("Deployment")) == len(COMPONENTS)


def test_autoscaling_replaces_fixed_replicas_only_where_enabled(rendered: Rendered) -> None:
    for component, (key, _) in COMPONENTS.items():
        settings = rendered.merged[key]
        deployment = rendered.component("Deployment", component)
        hpas = [
            hpa
            for hpa in rendered.of_kind("HorizontalPodAutoscaler")
            if hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
        ]
        if settings["autoscaling"]["enabled"]:
            assert "replicas" not in deployment["spec"]
            (hpa,) = hpas
            assert hpa["spec"]["minReplicas"] == settings["autoscaling"]["minReplicas"]
            assert hpa["spec"]["maxReplicas"] == settings["autoscaling"]["maxReplicas"]
        else:
            assert deployment["spec"]["replicas"] == settings["replicas"]
            assert hpas == []


def test_peer_addresses_name_the_peers_services_and_ports(rendered: Rendered) -> None:
    services = {svc["metadata"]["name"]: svc for svc in rendered.of_kind("Service")}
    expected_peers = {
        "gateway": ["identity", "customer-vault", "work-order", "notification"],
        "work-order": ["identity", "customer-vault"],
        "customer-vault": ["identity"],
        "notification": ["identity", "customer-vault"],
        "identity": [],
        # The web app calls the gateway over HTTP: FIELDVAULT_WEB_GATEWAY_URL, no *_ADDR.
        "web": [],
    }
    for component, peers in expected_peers.items():
        env = env_of(main_container(rendered, component))
        prefix = "FIELDVAULT_" + component.replace("-", "_").upper() + "_"
        addresses = {n for n in env if n.endswith("_ADDR") and n != prefix + "VAULT_ADDR"}
        assert addresses == {prefix + peer.replace("-", "_").upper() + "_ADDR" for peer in peers}
        for peer in peers:
            host, port = env[prefix + peer.replace("-", "_").upper() + "_ADDR"]["value"].split(":")
            service = services[host]
            assert service["spec"]["ports"][0]["port"] == int(port) == COMPONENTS[peer][1]
            assert service["spec"]["selector"]["app.kubernetes.io/component"] == peer


def test_secrets_come_only_from_existing_secrets(rendered: Rendered) -> None:
    assert rendered.of_kind("Secret") == [], "the chart must not create Secrets"
    for obj, pod in rendered.workloads():
        for container in pod["containers"]:
            for name, item in env_of(container).items():
                if name.endswith(SECRET_SUFFIXES) and not name.endswith("JWT_PATH"):
                    assert "value" not in item, f"{obj['metadata']['name']}: {name} inlined"
                    assert item["valueFrom"]["secretKeyRef"]["name"]


def test_each_database_owner_reads_its_own_database_url_secret(rendered: Rendered) -> None:
    for component in DATABASE_OWNERS:
        key = COMPONENTS[component][0]
        env = env_of(main_container(rendered, component))
        prefix = "FIELDVAULT_" + component.replace("-", "_").upper() + "_"
        ref = env[prefix + "DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert ref == {
            "name": rendered.merged[key]["database"]["secretName"],
            "key": rendered.merged[key]["database"]["secretKey"],
        }
    assert not any("DATABASE_URL" in name for name in env_of(main_container(rendered, "gateway")))


def test_only_identity_and_customer_vault_are_configured_for_vault_kubernetes_auth(
    rendered: Rendered,
) -> None:
    for component, (key, _) in COMPONENTS.items():
        env = env_of(main_container(rendered, component))
        prefix = "FIELDVAULT_" + component.replace("-", "_").upper() + "_"
        if component in VAULT_USERS:
            assert env[prefix + "VAULT_ADDR"]["value"] == rendered.merged["global"]["vault"]["addr"]
            assert env[prefix + "VAULT_AUTH_METHOD"]["value"] == "kubernetes"
            role = rendered.merged[key]["vault"]["role"]
            assert env[prefix + "VAULT_KUBERNETES_ROLE"]["value"] == role
        else:
            assert not [name for name in env if name.removeprefix(prefix).startswith("VAULT_")]


def test_identity_gets_only_digests_of_the_operator_token_and_service_secrets(
    rendered: Rendered,
) -> None:
    env = env_of(main_container(rendered, "identity"))
    assert "FIELDVAULT_IDENTITY_SERVICE_ACCOUNT_SECRETS_SHA256" in env
    assert "FIELDVAULT_IDENTITY_SERVICE_ACCOUNT_SECRET" not in env
    assert not [name for name in env if "OPERATOR_TOKEN" in name and not name.endswith("SHA256")]
    operator = rendered.merged["global"]["operatorToken"]["sha256Secret"]
    if operator["name"]:
        ref = env["FIELDVAULT_IDENTITY_OPERATOR_TOKEN_SHA256"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": operator["name"], "key": operator["key"]}


def test_nats_and_otlp_come_from_values(rendered: Rendered) -> None:
    nats = rendered.merged["global"]["nats"]
    otlp = rendered.merged["global"]["otlp"]["endpoint"]
    for component in COMPONENTS:
        env = env_of(main_container(rendered, component))
        nats_url = env["FIELDVAULT_" + component.replace("-", "_").upper() + "_NATS_URL"]
        if nats["credentialsSecret"]["name"]:
            assert (
                nats_url["valueFrom"]["secretKeyRef"]["name"] == nats["credentialsSecret"]["name"]
            )
        else:
            assert nats_url["value"] == nats["url"]
        if component == "web":
            # It exports no traces, and its NetworkPolicy lets it reach no collector.
            assert not [name for name in env if name.startswith("OTEL_")]
        elif otlp:
            assert env["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] == otlp
            assert env["OTEL_TRACES_EXPORTER"]["value"] == "otlp"
        else:
            assert env["OTEL_TRACES_EXPORTER"]["value"] == "none"


def test_streams_and_buckets_are_replicated_and_gateways_share_rate_limits(
    rendered: Rendered,
) -> None:
    replicas = rendered.merged["global"]["nats"]["replicas"]
    assert replicas >= 1
    for component in COMPONENTS:
        env = env_of(main_container(rendered, component))
        prefix = "FIELDVAULT_" + component.replace("-", "_").upper()
        assert env[prefix + "_NATS_REPLICAS"]["value"] == str(replicas)
    # With several gateway replicas, one budget per client: never one per replica.
    gateway = env_of(main_container(rendered, "gateway"))
    assert gateway["FIELDVAULT_GATEWAY_RATE_LIMIT_STORE"]["value"] == "nats"


def test_the_web_app_calls_the_gateway_service_and_keeps_sessions_in_nats(
    rendered: Rendered,
) -> None:
    container = main_container(rendered, "web")
    assert container["command"] == ["python", "-m", "web"]
    env = env_of(container)
    gateway = rendered.component("Service", "gateway")
    (port,) = gateway["spec"]["ports"]
    assert env["FIELDVAULT_WEB_GATEWAY_URL"]["value"] == (
        f"http://{gateway['metadata']['name']}:{port['port']}"
    )
    assert env["FIELDVAULT_WEB_HOST"]["value"] == "0.0.0.0"
    assert env["FIELDVAULT_WEB_PORT"]["value"] == str(COMPONENTS["web"][1])
    session = rendered.merged["web"]["session"]
    assert env["FIELDVAULT_WEB_SESSION_IDLE_MINUTES"]["value"] == str(session["idleMinutes"])
    assert env["FIELDVAULT_WEB_SESSION_ABSOLUTE_HOURS"]["value"] == str(session["absoluteHours"])
    # Nothing but the gateway and NATS: no database, Vault, service account or peers.
    names = [
        name.removeprefix("FIELDVAULT_WEB_") for name in env if name != "FIELDVAULT_ENVIRONMENT"
    ]
    for absent in ("DATABASE_URL", "VAULT_", "SERVICE_ACCOUNT", "_ADDR", "OPERATOR_TOKEN"):
        assert not [name for name in names if absent in name], absent


def test_migrations_run_as_pre_install_and_pre_upgrade_hook_jobs(rendered: Rendered) -> None:
    jobs = {job["metadata"]["name"]: job for job in rendered.of_kind("Job")}
    assert len(jobs) == len(DATABASE_OWNERS)
    for component in DATABASE_OWNERS:
        job = jobs[f"{RELEASE}-fieldvault-{component}-migrate"]
        hooks = set(job["metadata"]["annotations"]["helm.sh/hook"].split(","))
        assert hooks == {"pre-install", "pre-upgrade"}
        (container,) = job["spec"]["template"]["spec"]["containers"]
        module = component.replace("-", "_")
        assert container["command"] == ["python", "-m", module, "migrate"]
        server = main_container(rendered, component)
        assert container["image"] == server["image"]
        assert container["env"] == server["env"], "migrate validates the same settings"


def test_helm_test_pod_checks_every_backend_through_the_gateway_readiness(
    rendered: Rendered,
) -> None:
    pods = rendered.of_kind("Pod")
    if not rendered.merged["tests"]["enabled"]:
        assert pods == []
        return
    (pod,) = pods
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    (container,) = pod["spec"]["containers"]
    assert container["image"] == main_container(rendered, "gateway")["image"]
    assert container["command"][-2:] == [
        f"http://{RELEASE}-fieldvault-gateway:8080/readyz",
        f"http://{RELEASE}-fieldvault-web:8080/readyz",
    ]


def test_notes_tell_how_to_reach_and_test_the_release(rendered: Rendered) -> None:
    assert f"{RELEASE}-fieldvault-gateway" in rendered.notes
    assert f"{RELEASE}-fieldvault-web" in rendered.notes
    assert ("helm test" in rendered.notes) == rendered.merged["tests"]["enabled"]


def test_rendering_without_the_required_secret_names_fails_with_a_message() -> None:
    defaults_only = load_values(CHART / "ci" / "defaults-values.yaml")
    del defaults_only["notification"]["webhookSecretKey"]
    with helm.Chart.load(str(CHART)) as chart, pytest.raises(helm.HelmError) as failure:
        chart.render(defaults_only, name=RELEASE, namespace=NAMESPACE)
    assert "notification.webhookSecretKey.secretName is required" in str(failure.value)
