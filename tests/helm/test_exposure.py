"""The way in from outside (an Ingress or an HTTPRoute) sends the gateway's REST
paths to the gateway and every other path to the web app, through their ``http``
ports only; the metrics ports are on no Service and no route."""

from __future__ import annotations

import re
from typing import Any

import pytest
from chart_rendering import (
    COMPONENTS,
    METRICS_COMPONENTS,
    PUBLIC_COMPONENTS,
    RELEASE,
    Rendered,
)

GATEWAY = f"{RELEASE}-fieldvault-gateway"
WEB = f"{RELEASE}-fieldvault-web"
#: The gateway's paths besides its OpenAPI operations: the description and its viewers.
GATEWAY_DOCUMENT_PATHS = ["/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"]
#: Paths of the web app, and paths that only look like the API's: all the web app's.
WEB_PATHS = ["/", "/signin", "/jobs/42", "/static/app.css", "/v10", "/v1x", "/metrics"]


@pytest.fixture(scope="module")
def gateway_api_paths() -> list[str]:
    """Every path of the gateway's OpenAPI document, with its parameters filled in."""
    from gateway.main import create_app
    from gateway.settings import GatewaySettings

    document = create_app(GatewaySettings()).openapi()
    return [re.sub(r"\{[^}]+\}", "some-id", path) for path in document["paths"]]


def path_matches(kind: str, rule_path: str, path: str) -> bool:
    if kind == "Exact":
        return path == rule_path
    prefix = rule_path.rstrip("/")
    return path == rule_path or path.startswith(prefix + "/")


def routes(rendered: Rendered) -> list[tuple[str, str, str, Any]]:
    """(match kind, path, Service, port) of every route of the Ingress or HTTPRoute."""
    found: list[tuple[str, str, str, Any]] = []
    for ingress in rendered.of_kind("Ingress"):
        for rule in ingress["spec"]["rules"]:
            for entry in rule["http"]["paths"]:
                service = entry["backend"]["service"]
                kind = {"Prefix": "Prefix", "Exact": "Exact"}[entry["pathType"]]
                found.append((kind, entry["path"], service["name"], service["port"]))
    for route in rendered.of_kind("HTTPRoute"):
        for rule in route["spec"]["rules"]:
            for match in rule["matches"]:
                kind = {"PathPrefix": "Prefix", "Exact": "Exact"}[match["path"]["type"]]
                for backend in rule["backendRefs"]:
                    port = {"number": backend["port"]}
                    found.append((kind, match["path"]["value"], backend["name"], port))
    return found


def destination(rendered: Rendered, path: str) -> str:
    """The Service a request for ``path`` reaches: the longest matching path wins,
    an exact match before a prefix of the same length (Ingress and HTTPRoute alike)."""
    candidates = [
        (len(rule_path), kind == "Exact", service)
        for kind, rule_path, service, _ in routes(rendered)
        if path_matches(kind, rule_path, path)
    ]
    assert candidates, f"{path} is routed nowhere"
    return max(candidates)[2]


def service_port(rendered: Rendered, name: str, port: dict[str, Any]) -> dict[str, Any]:
    (match,) = [
        entry
        for entry in rendered.named("Service", name)["spec"]["ports"]
        if entry.get("name") == port.get("name") or entry["port"] == port.get("number")
    ]
    return match


def container_of(rendered: Rendered, component: str) -> dict[str, Any]:
    deployment = rendered.component("Deployment", component)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_only_the_chosen_way_in_is_rendered(rendered: Rendered) -> None:
    expose = rendered.merged["gateway"]["expose"]
    ingresses = rendered.of_kind("Ingress")
    http_routes = rendered.of_kind("HTTPRoute")
    if expose == "ingress":
        assert http_routes == []
        (ingress,) = ingresses
        (rule,) = ingress["spec"]["rules"]
        assert rule["host"] == rendered.merged["gateway"]["ingress"]["host"]
    elif expose == "httpRoute":
        assert ingresses == []
        (route,) = http_routes
        assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
        assert route["spec"]["parentRefs"] == rendered.merged["gateway"]["httpRoute"]["parentRefs"]
    else:
        assert ingresses == [] and http_routes == []


def test_the_gateways_paths_go_to_the_gateway_and_every_other_path_to_the_web_app(
    rendered: Rendered, gateway_api_paths: list[str]
) -> None:
    if not routes(rendered):
        pytest.skip("this value set exposes nothing")
    assert "/v1/work-orders" in gateway_api_paths and "/.well-known/jwks.json" in gateway_api_paths
    for path in gateway_api_paths + GATEWAY_DOCUMENT_PATHS:
        assert destination(rendered, path) == GATEWAY, path
    for path in WEB_PATHS:
        assert destination(rendered, path) == WEB, path


def test_the_way_in_reaches_only_the_public_components_http_ports(rendered: Rendered) -> None:
    public = {f"{RELEASE}-fieldvault-{name}" for name in PUBLIC_COMPONENTS}
    for _, path, service, port in routes(rendered):
        assert service in public, f"{path} -> {service}"
        target = service_port(rendered, service, port)
        assert target["name"] == "http" and target["targetPort"] == "http", (path, target)
        component = service.removeprefix(f"{RELEASE}-fieldvault-")
        ports = {p["name"]: p["containerPort"] for p in container_of(rendered, component)["ports"]}
        assert ports["http"] == COMPONENTS[component][1]


def test_no_service_exposes_a_metrics_port(rendered: Rendered) -> None:
    metrics_port = rendered.merged["global"]["metrics"]["port"]
    for service in rendered.of_kind("Service"):
        for port in service["spec"]["ports"]:
            assert port["name"] != "metrics", service["metadata"]["name"]
            assert metrics_port not in (port["port"], port["targetPort"]), service["metadata"]


def test_metrics_are_served_on_a_named_port_of_their_own_where_enabled(
    rendered: Rendered,
) -> None:
    metrics = rendered.merged["global"]["metrics"]
    for component in COMPONENTS:
        container = container_of(rendered, component)
        ports = {port["name"]: port for port in container["ports"]}
        prefix = "FIELDVAULT_" + component.replace("-", "_").upper() + "_"
        env = {item["name"]: item.get("value") for item in container["env"]}
        if metrics["enabled"] and component in METRICS_COMPONENTS:
            assert ports["metrics"] == {
                "name": "metrics",
                "containerPort": metrics["port"],
                "protocol": "TCP",
            }
            assert env[prefix + "METRICS_PORT"] == str(metrics["port"])
            assert ports["metrics"]["containerPort"] != ports[next(iter(ports))]["containerPort"]
        else:
            assert "metrics" not in ports, component
            assert prefix + "METRICS_PORT" not in env, component
