"""values.schema.json accepts the value sets of ci/ and rejects typos and wrong types,
both when validating alone and when Helm renders (install/upgrade validate the same way)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chart_rendering import CHART, CI_VALUES, COMPONENTS, NAMESPACE, RELEASE, helm, load_values

REQUIRED = load_values(CHART / "ci" / "defaults-values.yaml")


def with_required(**overrides: Any) -> dict[str, Any]:
    values = json.loads(json.dumps(REQUIRED))
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            values[key] = {**values[key], **value}
        else:
            values[key] = value
    return values


def schema_error(values: dict[str, Any]) -> str:
    with helm.Chart.load(str(CHART)) as chart:
        with pytest.raises(helm.HelmValuesError) as failure:
            chart.validate_schema(values)
        with pytest.raises(helm.HelmValuesError):
            chart.render(values, name=RELEASE, namespace=NAMESPACE)
    return str(failure.value)


@pytest.mark.parametrize("path", CI_VALUES, ids=lambda path: path.stem)
def test_every_ci_value_set_satisfies_the_schema(path: Any) -> None:
    values = load_values(path)
    with helm.Chart.load(str(CHART)) as chart:
        try:
            chart.validate_schema(values)
        except helm.HelmValuesError as refused:
            pytest.fail(f"{path.name} is refused by values.schema.json: {refused}")
        manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE)
    assert manifests, f"{path.name} renders nothing"


def test_a_typo_in_a_top_level_key_is_rejected() -> None:
    message = schema_error(with_required(workOrders={"replicas": 2}))
    assert "workOrders" in message


@pytest.mark.parametrize("block", [key for key, _ in COMPONENTS.values()])
def test_an_unknown_key_in_a_service_block_is_rejected(block: str) -> None:
    message = schema_error(with_required(**{block: {"replica": 3}}))
    assert "replica" in message


def test_replicas_as_a_word_is_rejected() -> None:
    message = schema_error(with_required(identity={"replicas": "two"}))
    assert "/identity/replicas" in message


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({"gateway": {"expose": "loadBalancer"}}, "/gateway/expose"),
        ({"global": {"image": {"tag": "latest"}}}, "/global/image/tag"),
        ({"global": {"environment": "prod"}}, "/global/environment"),
        ({"networkPolicy": {"enabled": "yes"}}, "/networkPolicy/enabled"),
        ({"customerVault": {"vault": {"authMount": "jwt"}}}, "/customerVault/vault/authMount"),
        ({"notification": {"smtp": {"port": "587"}}}, "/notification/smtp/port"),
        ({"gateway": {"corsOrigins": ["*"]}}, "/gateway/corsOrigins/0"),
        ({"global": {"vault": {"addr": "vault:8200"}}}, "/global/vault/addr"),
        ({"global": {"metrics": {"port": 8080}}}, "/global/metrics/port"),
        ({"global": {"metrics": {"port": 80}}}, "/global/metrics/port"),
        ({"web": {"session": {"idleMinutes": 0}}}, "/web/session/idleMinutes"),
        (
            {"networkPolicy": {"metricsScrapeFrom": [{"namespace": "monitoring"}]}},
            "/networkPolicy/metricsScrapeFrom/0",
        ),
    ],
    ids=[
        "expose",
        "latest-tag",
        "environment",
        "netpol-bool",
        "auth-mount",
        "smtp-port",
        "cors",
        "vault-addr",
        "metrics-on-a-serving-port",
        "metrics-on-a-privileged-port",
        "session-idle",
        "scrape-peer",
    ],
)
def test_wrong_values_are_rejected_naming_the_value(overrides: dict[str, Any], where: str) -> None:
    assert where in schema_error(with_required(**overrides))


def test_the_schema_closes_the_top_level_and_every_service_block() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["additionalProperties"] is False
    for key, _ in COMPONENTS.values():
        assert schema["properties"][key]["additionalProperties"] is False, key
