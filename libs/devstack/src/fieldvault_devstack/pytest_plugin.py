"""pytest fixtures that start real nats-server, OpenBao and databases on free ports.

Registered as the ``fieldvault`` pytest11 plugin, so every member's tests can
use them without a conftest import.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from fieldvault_devstack.databases import TEST_DATABASE_URL_ENV, isolated_database
from fieldvault_devstack.identity_service import IdentityProcess, running_identity
from fieldvault_devstack.nats import NatsServer
from fieldvault_devstack.openbao import OpenBaoServer, bootstrap_vault
from fieldvault_devstack.ports import free_port
from fieldvault_devstack.shared_stack import SharedStack, running_shared_stack

#: Fixtures that start a real server process or database. A test whose fixture
#: closure holds one of them is an ``integration`` (service-tier) test, marked so
#: by :func:`pytest_collection_modifyitems` whether or not its module says so;
#: ``make test-unit`` is then exactly the tests that need nothing running.
REAL_COMPONENT_FIXTURES = frozenset(
    {
        "nats_server",
        "nats_factory",
        "openbao",
        "openbao_factory",
        "openbao_credentials",
        "database_url",
        "identity_service",
    }
)


#: Fixtures that give a test a database: SQLite, or PostgreSQL when
#: ``FIELDVAULT_TEST_DATABASE_URL`` names a server. A test whose fixture closure holds
#: one is marked ``database``; ``make test-db`` runs exactly those (CI: on PostgreSQL).
DATABASE_FIXTURES = frozenset({"database_url", "identity_service", "shared_stack"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & DATABASE_FIXTURES:
            item.add_marker(pytest.mark.database)
        if "shared_stack" in fixtures and item.get_closest_marker("stack") is None:
            item.add_marker(pytest.mark.stack)
        if fixtures & REAL_COMPONENT_FIXTURES and item.get_closest_marker("stack") is None:
            item.add_marker(pytest.mark.integration)


def _new_nats(directory: Path) -> NatsServer:
    server = NatsServer(free_port(), directory / "jetstream", directory / "nats-server.log")
    server.start()
    return server


def _new_openbao(directory: Path, *, bootstrap: bool) -> OpenBaoServer:
    server = OpenBaoServer(free_port(), directory, cluster_port=free_port())
    server.start()
    if bootstrap:
        bootstrap_vault(server.addr, server.root_token, directory / "credentials")
    return server


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    server = _new_nats(tmp_path_factory.mktemp("nats"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def openbao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBaoServer]:
    """Initialised, unsealed, Transit + KV v2 + AppRoles; tests use ``.addr``, ``.root_token``."""
    server = _new_openbao(tmp_path_factory.mktemp("openbao"), bootstrap=True)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def openbao_credentials(openbao: OpenBaoServer) -> Mapping[str, tuple[str, str]]:
    """service -> (role_id, secret_id); bootstrap is idempotent and reuses the secret ids."""
    return bootstrap_vault(openbao.addr, openbao.root_token, openbao.data_dir / "credentials")


@pytest.fixture
def nats_factory(tmp_path: Path) -> Iterator[Callable[[], NatsServer]]:
    """Private, started NatsServers for tests that stop or restart them."""
    servers: list[NatsServer] = []

    def make() -> NatsServer:
        server = _new_nats(tmp_path / f"nats-{len(servers)}")
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def openbao_factory(tmp_path: Path) -> Iterator[Callable[..., OpenBaoServer]]:
    """Private, started OpenBaoServers (``make(bootstrap=True)``), all stopped at test end."""
    servers: list[OpenBaoServer] = []

    def make(*, bootstrap: bool = True) -> OpenBaoServer:
        server = _new_openbao(tmp_path / f"openbao-{len(servers)}", bootstrap=bootstrap)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for this test: SQLite by default, PostgreSQL when
    ``FIELDVAULT_TEST_DATABASE_URL`` names a server (a new ``fv_test_*`` database,
    dropped afterwards). Always an async SQLAlchemy URL."""
    server_url = os.environ.get(TEST_DATABASE_URL_ENV)
    if not server_url:
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    with isolated_database(server_url) as url:
        yield url


@pytest.fixture(scope="session")
def identity_service(
    tmp_path_factory: pytest.TempPathFactory,
    nats_server: NatsServer,
    openbao: OpenBaoServer,
    openbao_credentials: Mapping[str, tuple[str, str]],
) -> Iterator[IdentityProcess]:
    """A real identity process on the session's NATS and OpenBao, for the services that trust it.

    Its database is SQLite, or a fresh PostgreSQL database when
    ``FIELDVAULT_TEST_DATABASE_URL`` names a server. Tests share it: each uses
    tenants of its own.
    """
    directory = tmp_path_factory.mktemp("identity")
    server_url = os.environ.get(TEST_DATABASE_URL_ENV)
    with contextlib.ExitStack() as stack:
        database = stack.enter_context(isolated_database(server_url)) if server_url else None
        yield stack.enter_context(
            running_identity(
                directory=directory,
                nats_url=nats_server.url,
                vault_addr=openbao.addr,
                vault_credentials=openbao_credentials,
                database=database,
            )
        )


@pytest.fixture(scope="session")
def shared_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedStack]:
    """The whole stack every whole-stack module shares (fieldvault_devstack.shared_stack)."""
    with running_shared_stack(tmp_path_factory.mktemp("shared-stack") / "dev") as shared:
        yield shared


# --- traces ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def span_exporter() -> InMemorySpanExporter:
    """One in-memory exporter on the process-wide tracer provider.

    The global provider can be set only once per process, so if another
    test (or ``telemetry.setup``) installed an SDK provider first, the
    exporter is added to it instead of replacing it.
    """
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        trace.set_tracer_provider(TracerProvider())
        provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def spans(span_exporter: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    """The exporter, emptied before and after the test: read ``spans.get_finished_spans()``."""
    span_exporter.clear()
    yield span_exporter
    span_exporter.clear()
