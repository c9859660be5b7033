"""Every pod the chart runs (Deployments, migration hook Jobs, the helm test pod)
is hardened the same way, and only the Vault users present a ServiceAccount token."""

from __future__ import annotations

from typing import Any

from chart_rendering import COMPONENTS, GRPC_COMPONENTS, RELEASE, VAULT_USERS, Rendered

UID = 10001


def containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def test_every_workload_is_covered(rendered: Rendered) -> None:
    kinds = [obj["kind"] for obj, _ in rendered.workloads()]
    assert kinds.count("Deployment") == len(COMPONENTS)
    assert kinds.count("Job") == len(GRPC_COMPONENTS)
    assert kinds.count("Pod") == (1 if rendered.merged["tests"]["enabled"] else 0)


def test_pods_run_as_non_root_with_the_runtime_default_seccomp_profile(rendered: Rendered) -> None:
    for obj, pod in rendered.workloads():
        name = obj["metadata"]["name"]
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True, name
        assert context["runAsUser"] == UID, name
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for forbidden in ("hostNetwork", "hostPID", "hostIPC"):
            assert not pod.get(forbidden), f"{name} sets {forbidden}"


def test_containers_drop_all_capabilities_on_a_read_only_root_filesystem(
    rendered: Rendered,
) -> None:
    for obj, pod in rendered.workloads():
        for container in containers(pod):
            where = f"{obj['metadata']['name']}/{container['name']}"
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, where
            assert context["runAsUser"] == UID, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context.get("privileged", False) is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            assert not context["capabilities"].get("add"), where
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}, where


def test_tmp_is_a_writable_empty_dir(rendered: Rendered) -> None:
    for obj, pod in rendered.workloads():
        volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
        for container in containers(pod):
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            assert "/tmp" in mounts, f"{obj['metadata']['name']} has no /tmp"
            assert "emptyDir" in volumes[mounts["/tmp"]]


def test_images_are_pinned_and_resources_are_bounded(rendered: Rendered) -> None:
    for obj, pod in rendered.workloads():
        for container in containers(pod):
            where = f"{obj['metadata']['name']}/{container['name']}"
            image = container["image"]
            repository, _, tag = image.rpartition(":")
            assert repository and "/" not in tag, f"{where}: {image} has no tag"
            assert tag and tag != "latest", f"{where}: {image}"
            resources = container["resources"]
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources[bound]), f"{where} {bound}"


def test_only_identity_and_customer_vault_mount_a_service_account_token(
    rendered: Rendered,
) -> None:
    for account in rendered.of_kind("ServiceAccount"):
        component = account["metadata"]["labels"]["app.kubernetes.io/component"]
        assert account["automountServiceAccountToken"] is (component in VAULT_USERS)
    for obj, pod in rendered.workloads():
        component = obj["metadata"]["labels"]["app.kubernetes.io/component"]
        expected = obj["kind"] == "Deployment" and component in VAULT_USERS
        assert pod["automountServiceAccountToken"] is expected, obj["metadata"]["name"]
        if obj["kind"] == "Deployment":
            assert pod["serviceAccountName"] == f"{RELEASE}-fieldvault-{component}"


def test_grpc_services_use_grpc_probes_and_the_gateway_http_health_endpoints(
    rendered: Rendered,
) -> None:
    for component, (_, port) in COMPONENTS.items():
        (container,) = rendered.component("Deployment", component)["spec"]["template"]["spec"][
            "containers"
        ]
        if component in GRPC_COMPONENTS:
            for probe in ("readinessProbe", "livenessProbe"):
                assert container[probe]["grpc"] == {"port": port}, (component, probe)
        else:
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["ports"][0] == {
                "name": "http",
                "containerPort": port,
                "protocol": "TCP",
            }


def test_replicas_spread_over_zones_and_nodes_when_enabled(rendered: Rendered) -> None:
    enabled = rendered.merged["global"]["topologySpread"]["enabled"]
    for component in COMPONENTS:
        spec = rendered.component("Deployment", component)["spec"]["template"]["spec"]
        constraints = spec.get("topologySpreadConstraints", [])
        keys = {c["topologyKey"] for c in constraints}
        if enabled:
            assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
            for constraint in constraints:
                selector = constraint["labelSelector"]["matchLabels"]
                assert selector["app.kubernetes.io/component"] == component
        else:
            assert constraints == []


def test_disruption_budgets_select_their_own_component(rendered: Rendered) -> None:
    for component, (key, _) in COMPONENTS.items():
        pdb = rendered.component("PodDisruptionBudget", component)
        selector = pdb["spec"]["selector"]["matchLabels"]
        assert selector["app.kubernetes.io/component"] == component
        assert (
            pdb["spec"]["minAvailable"]
            == rendered.merged[key]["podDisruptionBudget"]["minAvailable"]
        )
