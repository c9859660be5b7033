"""Prometheus scrapes the gateway on ``METRICS_PORT``, a listener the public ingress
never routes; ``/metrics`` on the public port is a 404 like any unknown path."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from fieldvault_devstack.ports import free_port
from fieldvault_platform.settings import Environment
from gateway.settings import GatewaySettings


def requests_by_route(text: str) -> dict[tuple[str, str, str], float]:
    return {
        (sample.labels["method"], sample.labels["route"], sample.labels["status"]): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "http_server_requests_total"
    }


async def test_metrics_are_served_on_the_metrics_port_and_not_on_the_public_one(
    gateway: Any,
) -> None:
    metrics_port = free_port()
    async with gateway(metrics_port=metrics_port) as client:
        assert (await client.get("/healthz")).status_code == 200
        public = await client.get("/metrics")
        async with httpx.AsyncClient(timeout=5) as scraper:
            scraped = await scraper.get(f"http://127.0.0.1:{metrics_port}/metrics")

    assert public.status_code == 404
    assert public.headers["content-type"] == "application/problem+json"
    assert "http_server_requests" not in public.text
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    counted = requests_by_route(scraped.text)
    assert counted[("GET", "/healthz", "200")] >= 1
    # The public port's /metrics is an unknown path, counted as one.
    assert counted[("GET", "unmatched", "404")] >= 1


async def test_without_a_metrics_port_metrics_are_not_served_at_all(gateway: Any) -> None:
    async with gateway() as client:
        answer = await client.get("/metrics")

    assert answer.status_code == 404
    assert "http_server_requests" not in answer.text


async def test_the_metrics_listener_lives_as_long_as_the_app(gateway: Any) -> None:
    metrics_port = free_port()
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    async with httpx.AsyncClient(timeout=2) as scraper:
        async with gateway(metrics_port=metrics_port):
            assert (await scraper.get(url)).status_code == 200

        with pytest.raises(httpx.ConnectError):
            await scraper.get(url)


def test_metrics_on_the_public_port_are_refused_with_a_clear_message() -> None:
    with pytest.raises(ValidationError) as refused:
        GatewaySettings(environment=Environment.TEST, http_port=8080, metrics_port=8080)

    assert "METRICS_PORT must differ from FIELDVAULT_GATEWAY_HTTP_PORT" in str(refused.value)
