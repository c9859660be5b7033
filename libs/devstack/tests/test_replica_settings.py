"""The launcher's replica settings: every replica's and NATS node's port is claimed up
front, and replicas on SQLite are refused before anything starts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from fieldvault_devstack.nats import NatsCluster, NatsServer
from fieldvault_devstack.service_env import StackEndpoints, service_env
from fieldvault_devstack.settings import GRPC_SERVICES, DevStackSettings
from fieldvault_devstack.stack import LocalStack, StackError


def test_one_replica_keeps_the_single_node_ports(tmp_path: Path) -> None:
    settings = DevStackSettings(data_dir=tmp_path)
    ports = settings.ports()

    assert settings.nats_nodes == 1
    assert ports["FIELDVAULT_DEV_GATEWAY_PORT"] == 8080
    assert not [name for name in ports if "+" in name or "NATS_CLUSTER" in name]
    assert isinstance(LocalStack(settings).nats, NatsServer)


def test_two_replicas_claim_a_port_per_replica_and_per_nats_node(tmp_path: Path) -> None:
    settings = DevStackSettings(data_dir=tmp_path, replicas=2)
    ports = settings.ports()

    assert settings.nats_nodes == 3
    assert ports["FIELDVAULT_DEV_GATEWAY_PORT+10"] == 8090
    assert ports["FIELDVAULT_DEV_IDENTITY_GRPC_PORT+10"] == 17011
    assert ports["FIELDVAULT_DEV_NATS_PORT+20"] == 14242
    assert ports["FIELDVAULT_DEV_NATS_CLUSTER_PORT+20"] == 14268
    assert len(set(ports.values())) == len(ports), "two things on one port"
    stack = LocalStack(settings)
    assert isinstance(stack.nats, NatsCluster)
    assert stack.nats.url.count("nats://") == 3


def test_replicas_on_sqlite_are_refused_naming_the_services(tmp_path: Path) -> None:
    settings = DevStackSettings(
        data_dir=tmp_path,
        replicas=2,
        database_urls={"identity": "postgresql+asyncpg://u@db/identity"},
    )
    with pytest.raises(StackError) as refused:
        LocalStack(settings).database_urls()

    message = str(refused.value)
    assert "PostgreSQL" in message and "not a supported deployment" in message
    assert "customer_vault, work_order, notification" in message
    assert "identity" not in message.split("but")[1].split("would")[0]


def test_replicas_use_replicated_streams_and_shared_rate_limits(tmp_path: Path) -> None:
    settings = DevStackSettings(data_dir=tmp_path, replicas=2)
    stack = LocalStack(settings)
    endpoints = stack_endpoints(stack)
    stack.endpoints = endpoints

    second_gateway = stack.env_for("gateway", 1)
    assert second_gateway["FIELDVAULT_GATEWAY_HTTP_PORT"] == "8090"
    assert second_gateway["FIELDVAULT_GATEWAY_IDENTITY_ADDR"] == "127.0.0.1:17011"
    assert second_gateway["FIELDVAULT_GATEWAY_RATE_LIMIT_STORE"] == "nats"
    assert second_gateway["FIELDVAULT_GATEWAY_NATS_REPLICAS"] == "3"
    assert stack.env_for("work_order", 1)["FIELDVAULT_WORK_ORDER_NATS_REPLICAS"] == "3"
    assert stack.gateway_urls() == ["http://127.0.0.1:8080", "http://127.0.0.1:8090"]

    single = service_env("gateway", replace(endpoints, nats_replicas=1))
    assert "FIELDVAULT_GATEWAY_RATE_LIMIT_STORE" not in single
    assert "FIELDVAULT_GATEWAY_NATS_REPLICAS" not in single


def stack_endpoints(stack: LocalStack) -> StackEndpoints:
    settings = stack.settings
    return StackEndpoints(
        data_dir=stack.data_dir,
        host=settings.host,
        nats_url=stack.nats.url,
        vault_addr="http://127.0.0.1:18200",
        grpc_ports={service: settings.grpc_port(service) for service in GRPC_SERVICES},
        gateway_port=settings.gateway_port,
        web_port=settings.web_port,
        nats_replicas=settings.nats_nodes,
    )
