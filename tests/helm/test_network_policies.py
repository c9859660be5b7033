"""Who may talk to whom, computed from the rendered NetworkPolicies.

A small model of Kubernetes NetworkPolicy semantics: a pod selected by no
policy of a direction is open in that direction; once selected, only what some
rule admits gets through (the union of the rules). A connection needs the
source's egress and, for a pod of the release, the destination's ingress. The
endpoints outside the release (Vault, NATS, PostgreSQL, the collector, DNS,
the ingress controller) are placed where the value set says they are.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

import pytest
from chart_rendering import (
    COMPONENTS,
    DATABASE_OWNERS,
    METRICS_COMPONENTS,
    NAMESPACE,
    PUBLIC_COMPONENTS,
    VAULT_USERS,
    Rendered,
)

#: Who calls whom (gRPC; the web app calls the gateway's REST API), from docs/architecture.md and
#: the services' settings.
CALLS = {
    "gateway": {"identity", "customer-vault", "work-order", "notification"},
    "work-order": {"identity", "customer-vault"},
    "customer-vault": {"identity"},
    "notification": {"identity", "customer-vault"},
    "identity": set(),
    "web": {"gateway"},
}
PUBLIC_HOST = "203.0.113.10"  # documentation range: a stand-in for the internet
PRIVATE_HOST = "10.99.0.7"


@dataclass(frozen=True)
class Endpoint:
    name: str
    namespace: str | None  # None: outside the cluster
    ns_labels: dict[str, str] = field(default_factory=dict, hash=False)
    pod_labels: dict[str, str] = field(default_factory=dict, hash=False)
    ip: str | None = None


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values")
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def peer_matches(peer: dict[str, Any], endpoint: Endpoint, policy_namespace: str) -> bool:
    if "ipBlock" in peer:
        if endpoint.ip is None:
            return False
        address = ipaddress.ip_address(endpoint.ip)
        block = peer["ipBlock"]
        return address in ipaddress.ip_network(block["cidr"]) and not any(
            address in ipaddress.ip_network(cidr) for cidr in block.get("except", [])
        )
    if endpoint.namespace is None:
        return False
    if "namespaceSelector" in peer:
        if not selector_matches(peer["namespaceSelector"], endpoint.ns_labels):
            return False
    elif endpoint.namespace != policy_namespace:
        return False
    return selector_matches(peer.get("podSelector"), endpoint.pod_labels)


def rule_admits(rule: dict[str, Any], peers_key: str, endpoint: Endpoint, port: int) -> bool:
    ports = rule.get("ports") or []
    if ports and not any(
        p.get("port") in (None, port) and p.get("protocol", "TCP") == "TCP" for p in ports
    ):
        return False
    peers = rule.get(peers_key) or []
    return not peers or any(peer_matches(peer, endpoint, NAMESPACE) for peer in peers)


class Network:
    def __init__(self, policies: list[dict[str, Any]]) -> None:
        self.policies = policies

    def selecting(self, pod: Endpoint, direction: str) -> list[dict[str, Any]]:
        if pod.namespace != NAMESPACE:
            return []
        return [
            policy
            for policy in self.policies
            if direction in policy["spec"].get("policyTypes", ["Ingress"])
            and selector_matches(policy["spec"]["podSelector"], pod.pod_labels)
        ]

    def egress_allows(self, source: Endpoint, destination: Endpoint, port: int) -> bool:
        policies = self.selecting(source, "Egress")
        return not policies or any(
            rule_admits(rule, "to", destination, port)
            for policy in policies
            for rule in policy["spec"].get("egress") or []
        )

    def ingress_allows(self, source: Endpoint, destination: Endpoint, port: int) -> bool:
        policies = self.selecting(destination, "Ingress")
        return not policies or any(
            rule_admits(rule, "from", source, port)
            for policy in policies
            for rule in policy["spec"].get("ingress") or []
        )

    def can_reach(self, source: Endpoint, destination: Endpoint, port: int) -> bool:
        return self.egress_allows(source, destination, port) and self.ingress_allows(
            source, destination, port
        )


def pods_of(rendered: Rendered) -> dict[str, Endpoint]:
    """Every pod of the release by component, with its template's labels."""
    pods = {}
    for index, (obj, pod_spec) in enumerate(rendered.workloads()):
        del pod_spec
        labels = (
            obj["metadata"]["labels"]
            if obj["kind"] == "Pod"
            else obj["spec"]["template"]["metadata"]["labels"]
        )
        component = labels["app.kubernetes.io/component"]
        pods[component] = Endpoint(
            component,
            NAMESPACE,
            {"kubernetes.io/metadata.name": NAMESPACE},
            dict(labels),
            f"10.244.1.{index + 10}",
        )
    return pods


def endpoint_from_peer(name: str, peer: dict[str, Any], address: str) -> Endpoint:
    """A place that the given peer describes (where the values say a dependency is)."""
    if "ipBlock" in peer:
        network = ipaddress.ip_network(peer["ipBlock"]["cidr"])
        return Endpoint(name, None, ip=str(next(network.hosts())))
    ns_labels = (peer.get("namespaceSelector") or {}).get("matchLabels") or {}
    namespace = ns_labels.get("kubernetes.io/metadata.name", NAMESPACE)
    if "namespaceSelector" not in peer:
        namespace, ns_labels = NAMESPACE, {"kubernetes.io/metadata.name": NAMESPACE}
    pod_labels = (peer.get("podSelector") or {}).get("matchLabels") or {}
    return Endpoint(name, namespace, dict(ns_labels), dict(pod_labels), address)


@dataclass
class Topology:
    network: Network
    pods: dict[str, Endpoint]
    values: dict[str, Any]

    def dependency(self, key: str) -> tuple[Endpoint, int]:
        rule = self.values["networkPolicy"][key]
        return endpoint_from_peer(key, rule["to"][0], "10.96.5.5"), rule["ports"][0]

    def database_of(self, component: str) -> tuple[Endpoint, int]:
        settings = self.values[COMPONENTS[component][0]]["database"]
        peers = settings.get("networkPolicyTo") or self.values["networkPolicy"]["postgresql"]["to"]
        port = self.values["networkPolicy"]["postgresql"]["ports"][0]
        return endpoint_from_peer("database", peers[0], "10.96.6.6"), port


@pytest.fixture
def topology(rendered: Rendered) -> Topology:
    if not rendered.merged["networkPolicy"]["enabled"]:
        pytest.skip("this value set turns NetworkPolicies off")
    return Topology(Network(rendered.of_kind("NetworkPolicy")), pods_of(rendered), rendered.merged)


def test_network_policies_are_on_in_every_value_set(rendered: Rendered) -> None:
    assert rendered.merged["networkPolicy"]["enabled"] is True


def test_every_pod_of_the_release_is_default_deny_in_both_directions(topology: Topology) -> None:
    deny_all = [
        policy
        for policy in topology.network.policies
        if set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not policy["spec"].get("ingress")
        and not policy["spec"].get("egress")
    ]
    for pod in topology.pods.values():
        assert any(selector_matches(p["spec"]["podSelector"], pod.pod_labels) for p in deny_all)
        assert topology.network.selecting(pod, "Ingress"), pod.name
        assert topology.network.selecting(pod, "Egress"), pod.name


def test_services_talk_only_along_the_call_graph(topology: Topology) -> None:
    for source, callees in CALLS.items():
        for destination, (_, port) in COMPONENTS.items():
            allowed = topology.network.can_reach(
                topology.pods[source], topology.pods[destination], port
            )
            assert allowed is (destination in callees), f"{source} -> {destination}"


def test_no_service_accepts_its_peers_on_other_ports(topology: Topology) -> None:
    gateway = topology.pods["gateway"]
    for destination in CALLS["gateway"]:
        assert not topology.network.can_reach(gateway, topology.pods[destination], 22)


def test_only_identity_and_customer_vault_reach_vault(topology: Topology) -> None:
    vault, port = topology.dependency("vault")
    reaching = {
        name for name, pod in topology.pods.items() if topology.network.can_reach(pod, vault, port)
    }
    assert reaching == VAULT_USERS


def every_port(topology: Topology) -> set[int]:
    """Every port a pod of the release listens on."""
    ports = {port for _, port in COMPONENTS.values()}
    if topology.values["global"]["metrics"]["enabled"]:
        ports.add(topology.values["global"]["metrics"]["port"])
    return ports


def scraper(topology: Topology) -> Endpoint | None:
    """Where networkPolicy.metricsScrapeFrom says Prometheus is; None: nowhere."""
    peers = topology.values["networkPolicy"]["metricsScrapeFrom"]
    return endpoint_from_peer("prometheus", peers[0], "10.244.8.8") if peers else None


def test_only_the_gateway_and_the_web_app_accept_the_ingress_controller(
    topology: Topology,
) -> None:
    scrape_peers = topology.values["networkPolicy"]["metricsScrapeFrom"]
    metrics_port = topology.values["global"]["metrics"]["port"]
    for policy in topology.network.policies:
        selected = [
            pod
            for pod in topology.pods.values()
            if selector_matches(policy["spec"]["podSelector"], pod.pod_labels)
        ]
        if selected and {pod.name for pod in selected} <= set(PUBLIC_COMPONENTS):
            continue
        for rule in policy["spec"].get("ingress") or []:
            peers = rule.get("from") or []
            assert peers, f"{policy['metadata']['name']} admits everyone"
            if peers == scrape_peers:
                # The scraper, on the metrics port only.
                assert rule["ports"] == [{"protocol": "TCP", "port": metrics_port}]
                continue
            for peer in peers:
                assert set(peer) == {"podSelector"}, f"{policy['metadata']['name']}: {peer}"
    controller = endpoint_from_peer(
        "controller", topology.values["networkPolicy"]["gatewayIngressFrom"][0], "10.244.9.9"
    )
    stranger = Endpoint("stranger", "elsewhere", {"kubernetes.io/metadata.name": "elsewhere"})
    internet = Endpoint("internet", None, ip=PUBLIC_HOST)
    for name, pod in topology.pods.items():
        for port in every_port(topology):
            public = name in PUBLIC_COMPONENTS and port == COMPONENTS[name][1]
            assert topology.network.can_reach(controller, pod, port) is public, (
                f"controller -> {name}:{port}"
            )
            assert not topology.network.can_reach(stranger, pod, port), f"stranger -> {name}"
            assert not topology.network.can_reach(internet, pod, port), f"internet -> {name}"


def test_only_the_configured_scraper_reaches_the_metrics_ports_and_nothing_else(
    topology: Topology,
) -> None:
    metrics = topology.values["global"]["metrics"]
    prometheus = scraper(topology)
    controller = endpoint_from_peer(
        "controller", topology.values["networkPolicy"]["gatewayIngressFrom"][0], "10.244.9.9"
    )
    for name, pod in topology.pods.items():
        # Not even the ingress controller, nor a peer of the release.
        assert not topology.network.can_reach(controller, pod, metrics["port"]), name
        for other in topology.pods.values():
            assert not topology.network.can_reach(other, pod, metrics["port"]), (other.name, name)
        if prometheus is None:
            continue
        serves = metrics["enabled"] and name in METRICS_COMPONENTS
        assert topology.network.can_reach(prometheus, pod, metrics["port"]) is serves, name
        for _, port in COMPONENTS.values():
            assert not topology.network.can_reach(prometheus, pod, port), (name, port)


def test_the_web_app_reaches_only_the_gateway_and_nats(topology: Topology) -> None:
    web = topology.pods["web"]
    nats, nats_port = topology.dependency("nats")
    gateway = topology.pods["gateway"]
    assert topology.network.can_reach(web, gateway, COMPONENTS["gateway"][1])
    assert topology.network.can_reach(web, nats, nats_port)
    dns, _ = topology.dependency("dns")
    assert topology.network.egress_allows(web, dns, 53)
    elsewhere = [
        topology.dependency("vault"),
        topology.dependency("otlp"),
        topology.database_of("identity"),
        (Endpoint("internet", None, ip=PUBLIC_HOST), 443),
        (Endpoint("private", None, ip=PRIVATE_HOST), 443),
        (Endpoint("metadata", None, ip="169.254.169.254"), 80),
    ]
    for endpoint, port in elsewhere:
        assert not topology.network.can_reach(web, endpoint, port), endpoint.name
    for name, pod in topology.pods.items():
        for port in every_port(topology):
            allowed = name == "gateway" and port == COMPONENTS["gateway"][1]
            assert topology.network.can_reach(web, pod, port) is allowed, f"web -> {name}:{port}"
        assert not topology.network.can_reach(web, pod, nats_port), name


def test_every_service_reaches_nats_and_dns_and_all_but_the_web_app_the_collector(
    topology: Topology,
) -> None:
    nats, nats_port = topology.dependency("nats")
    collector, collector_port = topology.dependency("otlp")
    dns, _ = topology.dependency("dns")
    for name in COMPONENTS:
        pod = topology.pods[name]
        assert topology.network.can_reach(pod, nats, nats_port), name
        assert topology.network.can_reach(pod, collector, collector_port) is (name != "web"), name
        assert topology.network.egress_allows(pod, dns, 53), name


def test_each_database_owner_reaches_its_own_database_and_no_other_component_does(
    topology: Topology,
) -> None:
    for owner in DATABASE_OWNERS:
        database, port = topology.database_of(owner)
        for name in COMPONENTS:
            shares = name in DATABASE_OWNERS and topology.database_of(name)[0] == database
            allowed = topology.network.can_reach(topology.pods[name], database, port)
            assert allowed is (name == owner or shares), f"{name} -> {owner}'s database"
        migrate = topology.pods[f"{owner}-migrate"]
        assert topology.network.can_reach(migrate, database, port), f"{owner}-migrate"


def test_migration_jobs_reach_nothing_but_their_database(topology: Topology) -> None:
    vault, vault_port = topology.dependency("vault")
    nats, nats_port = topology.dependency("nats")
    for name, pod in topology.pods.items():
        if not name.endswith("-migrate"):
            continue
        assert not topology.network.can_reach(pod, vault, vault_port), name
        assert not topology.network.can_reach(pod, nats, nats_port), name
        for peer, (_, port) in COMPONENTS.items():
            assert not topology.network.can_reach(pod, topology.pods[peer], port), (name, peer)
        assert not topology.network.can_reach(pod, Endpoint("web", None, ip=PUBLIC_HOST), 443)


def test_only_notification_reaches_the_internet_and_never_private_ranges(
    topology: Topology,
) -> None:
    internet = Endpoint("internet", None, ip=PUBLIC_HOST)
    private = Endpoint("private", None, ip=PRIVATE_HOST)
    metadata = Endpoint("metadata", None, ip="169.254.169.254")
    for name, pod in topology.pods.items():
        for port in (443, 587, 465):
            assert topology.network.can_reach(pod, internet, port) is (name == "notification"), (
                name,
                port,
            )
            assert not topology.network.can_reach(pod, private, port), (name, port)
        assert not topology.network.can_reach(pod, metadata, 80), name
        assert not topology.network.can_reach(pod, internet, 80), name


def test_the_helm_test_pod_reaches_only_the_gateway_and_the_web_app(topology: Topology) -> None:
    if "test" not in topology.pods:
        # No test pod, so no policy for one either.
        names = [policy["metadata"]["name"] for policy in topology.network.policies]
        assert not [name for name in names if name.endswith("-test")]
        return
    test_pod = topology.pods["test"]
    for name, (_, port) in COMPONENTS.items():
        assert topology.network.can_reach(test_pod, topology.pods[name], port) is (
            name in PUBLIC_COMPONENTS
        ), name


def test_the_model_sees_an_open_policy_as_open() -> None:
    """The model itself: a policy allowing everything lets a stranger in."""
    pod = Endpoint("x", NAMESPACE, {}, {"app": "x"}, "10.0.0.1")
    stranger = Endpoint("s", "elsewhere", {"kubernetes.io/metadata.name": "elsewhere"}, {})
    open_policy = {
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{}]},
    }
    closed = {"spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": []}}
    assert Network([open_policy]).can_reach(stranger, pod, 80)
    assert not Network([closed]).can_reach(stranger, pod, 80)
    assert Network([]).can_reach(stranger, pod, 80)
