"""The local stack: nats-server, OpenBao and every service as its own process.

Used by ``python -m fieldvault_devstack run`` (``make run``) and by tests that
need the whole system. Starting twice with the same ``data_dir`` reuses
everything: JetStream store, OpenBao data and unseal key, SQLite files,
AppRole credentials, the operator token, the service-account secrets and the
demo tenant.

Start-up runs what does not depend on each other side by side (NATS beside
OpenBao; each service's migrations and start beside the others'; the gateway
and the field app spawned at once, since they only connect lazily) and logs a
progress line per step: time since the start, the step, and how long it took.

With ``replicas`` above 1 every service runs that many processes on one
PostgreSQL database each (SQLite is refused: replicas on one SQLite file are not
a supported deployment), NATS is a three-node JetStream cluster and streams and
buckets are replicated three times. Replica ``r`` of every service talks to
replica ``r`` of the others (a "lane": ports + r * 10); they share the
databases, NATS and OpenBao, which is where replicas must agree.
"""

from __future__ import annotations

import logging
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from fieldvault_devstack._process import log_tail, write_secret_file
from fieldvault_devstack.databases import ensure_database
from fieldvault_devstack.demo import DemoSeed, seed_demo_tenant
from fieldvault_devstack.health import grpc_serving, http_ready
from fieldvault_devstack.identity_service import IdentityProcess
from fieldvault_devstack.nats import NatsCluster, NatsServer
from fieldvault_devstack.openbao import OpenBaoServer, bootstrap_vault
from fieldvault_devstack.ports import ensure_port_free
from fieldvault_devstack.service_env import StackEndpoints, service_env, sha256_hex
from fieldvault_devstack.service_process import (
    SERVICE_STOP_TIMEOUT,
    ServiceProcess,
    StackError,
    migrate,
)
from fieldvault_devstack.settings import (
    DB_SERVICES,
    GRPC_SERVICES,
    SERVICE_ACCOUNTS,
    VAULT_SERVICES,
    DevStackSettings,
)

__all__ = ["LocalStack", "StackError"]

log = logging.getLogger("fieldvault.dev")


class StartClock:
    """Progress lines of a start: ``[ 12.3s] identity is ready (4.1s)``."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @contextmanager
    def step(self, done: str) -> Iterator[None]:
        """Log ``done`` with the times once the block finishes (nothing if it raises)."""
        began = time.monotonic()
        yield
        log.info("[%6.1fs] %s (%.1fs)", self.elapsed(), done, time.monotonic() - began)


def replica_name(service: str, replica: int) -> str:
    """``identity`` for the first replica, ``identity-2`` for the second, and so on."""
    return service if replica == 0 else f"{service}-{replica + 1}"


class LocalStack:
    def __init__(
        self,
        settings: DevStackSettings,
        python: str = sys.executable,
        *,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        #: Added to every service's environment (tests tighten limits with it).
        self.extra_env = dict(extra_env or {})
        self.python = python
        self.data_dir = settings.data_dir.resolve()
        self.logs_dir = self.data_dir / "logs"
        self.mail_dir = self.data_dir / "mail"
        self.operator_token_file = self.data_dir / "operator-token"
        self.credentials_dir = self.data_dir / "vault-credentials"
        #: One secret per service account (0600 files named after the service).
        self.service_accounts_dir = self.data_dir / "service-accounts"
        self.nats: NatsServer | NatsCluster
        if settings.nats_nodes > 1:
            self.nats = NatsCluster.stepped(
                settings.nats_port,
                settings.nats_cluster_port,
                self.data_dir / "nats",
                self.logs_dir,
                size=settings.nats_nodes,
                step=settings.replica_port(0, 1),
            )
        else:
            self.nats = NatsServer(
                settings.nats_port, self.data_dir / "nats", self.logs_dir / "nats-server.log"
            )
        self.openbao = OpenBaoServer(
            settings.openbao_port,
            self.data_dir / "openbao",
            audit_log=self.data_dir / "openbao" / "audit.log",
            cluster_port=settings.openbao_cluster_port,
        )
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.endpoints: StackEndpoints | None = None
        self.demo: DemoSeed | None = None
        self._services: list[ServiceProcess] = []
        self._by_name: dict[str, ServiceProcess] = {}
        self.clock = StartClock()

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Everything, in dependency order; on any failure stop what was started."""
        self.clock = StartClock()
        try:
            self.start_infrastructure()
            self.run_migrations_and_start_services()
            self.seed_demo()
        except BaseException:
            self.stop()
            raise
        log.info("[%6.1fs] started", self.clock.elapsed())

    def start_infrastructure(self) -> StackEndpoints:
        """Ports, folders, NATS beside OpenBao (bootstrapped), operator token, service accounts."""
        for setting_name, port in self.settings.ports().items():
            ensure_port_free(port, setting_name, self.settings.host)
        database_urls = self.database_urls()
        for folder in (self.data_dir, self.logs_dir, self.mail_dir):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.data_dir.chmod(0o700)  # holds the unseal key and credentials

        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="infra") as pool:
            nats = pool.submit(self._start_nats)
            credentials = pool.submit(self._start_openbao).result()
            nats.result()
        self.endpoints = StackEndpoints(
            data_dir=self.data_dir,
            host=self.settings.host,
            nats_url=self.nats.url,
            vault_addr=self.openbao.addr,
            grpc_ports={service: self.settings.grpc_port(service) for service in GRPC_SERVICES},
            gateway_port=self.settings.gateway_port,
            web_port=self.settings.web_port,
            vault_credentials=credentials,
            operator_token_sha256=sha256_hex(self.operator_token()),
            service_account_secrets={
                service: self._secret_file(self.service_accounts_dir / service)
                for service in SERVICE_ACCOUNTS
            },
            webhook_secret_key=self._secret_file(self.data_dir / "webhook-secret-key"),
            database_urls=database_urls,
            nats_replicas=self.settings.nats_nodes,
        )
        return self.endpoints

    def database_urls(self) -> dict[str, str]:
        """Each service's database URL: named, or made on ``postgres_url``; replicas need these."""
        urls = dict(self.settings.database_urls)
        if self.settings.postgres_url:
            for service in DB_SERVICES:
                if service not in urls:
                    urls[service] = ensure_database(
                        self.settings.postgres_url, f"fieldvault_{service}"
                    )
        if self.settings.replicas > 1:
            on_sqlite = [s for s in DB_SERVICES if not urls.get(s, "").startswith("postgres")]
            if on_sqlite:
                raise StackError(
                    f"{self.settings.replicas} replicas need PostgreSQL, but "
                    f"{', '.join(on_sqlite)} would use SQLite: set FIELDVAULT_DEV_POSTGRES_URL "
                    "(or FIELDVAULT_DEV_DATABASE_URLS); several processes on one SQLite "
                    "file are not a supported deployment"
                )
        return urls

    def _start_nats(self) -> None:
        with self.clock.step("NATS is ready"):
            self.nats.start()

    def _start_openbao(self) -> dict[str, tuple[str, str]]:
        first_start = not self.openbao.root_token_file.exists()
        with self.clock.step("OpenBao initialised" if first_start else "OpenBao unsealed"):
            self.openbao.start()
        with self.clock.step("OpenBao engines, policies and AppRoles set up"):
            return bootstrap_vault(
                self.openbao.addr, self.openbao.root_token, self.credentials_dir, VAULT_SERVICES
            )

    def identity_process(self) -> IdentityProcess:
        """The running identity, described as tests drive it (``IdentityDriver``)."""
        if self.endpoints is None:
            raise StackError("the stack is not started")
        return IdentityProcess(
            addr=self.endpoints.grpc_address("identity"),
            operator_token=self.operator_token(),
            service_account_secrets=self.endpoints.service_account_secrets,
            nats_url=self.nats.url,
            log_file=self.service_log("identity"),
        )

    def operator_token(self) -> str:
        """The platform operator's token (made on the first start); identity gets its hash."""
        return self._secret_file(self.operator_token_file)

    @staticmethod
    def _secret_file(path: Path) -> str:
        """The random secret kept in ``path`` (0600), created on first use and then reused."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_secret_file(path, secrets.token_urlsafe(32) + "\n")
        return path.read_text().strip()

    def env_for(self, service: str, replica: int = 0) -> dict[str, str]:
        """``service``'s environment; replica ``r`` listens on, and calls, ports + r * 10."""
        if self.endpoints is None:
            raise StackError("start_infrastructure() must run before services get an environment")
        return service_env(service, self.lane(replica)) | self.extra_env

    def lane(self, replica: int) -> StackEndpoints:
        """The endpoints as replica ``replica`` of every service sees them."""
        if self.endpoints is None:
            raise StackError("the stack is not started")
        shift = self.settings.replica_port
        return replace(
            self.endpoints,
            grpc_ports={s: shift(p, replica) for s, p in self.endpoints.grpc_ports.items()},
            gateway_port=shift(self.endpoints.gateway_port, replica),
            web_port=shift(self.endpoints.web_port, replica),
        )

    def gateway_urls(self) -> list[str]:
        """Every gateway replica's base URL."""
        return [self.lane(r).gateway_url for r in range(self.settings.replicas)]

    def run_migrations(self) -> None:
        """Every service's migrations, side by side (each owns its database)."""
        with ThreadPoolExecutor(max_workers=len(DB_SERVICES), thread_name_prefix="migrate") as pool:
            for done in [pool.submit(self._migrate, service) for service in DB_SERVICES]:
                done.result()

    def _migrate(self, service: str) -> None:
        # Migrations are their own step (never at service import), one process each.
        with self.clock.step(f"{service} migrated"):
            migrate(service, self.env_for(service), python=self.python)

    def run_migrations_and_start_services(self) -> None:
        """Each gRPC service migrated and started beside the others, then the edge.

        A gRPC service needs only NATS, OpenBao and its own (migrated) database,
        so each goes its own way. The gateway and the field app open their
        connections lazily and report not ready until what they call is up, so
        they are spawned at once too (their imports overlap the rest); they are
        waited for last: the gateway's readiness is its backends', the field
        app's is the gateway's.
        """
        with ThreadPoolExecutor(
            max_workers=len(GRPC_SERVICES), thread_name_prefix="service"
        ) as pool:
            grpc_services = [pool.submit(self._bring_up, service) for service in GRPC_SERVICES]
            for service in ("gateway", "web"):
                for replica in range(self.settings.replicas):
                    self._spawn(service, replica)
            for done in grpc_services:
                done.result()
        for service in ("gateway", "web"):
            with self.clock.step(f"{service} is ready"):
                for replica in range(self.settings.replicas):
                    self._wait_ready(service, replica)

    def _bring_up(self, service: str) -> None:
        self._migrate(service)
        with self.clock.step(f"{service} is ready"):
            for replica in range(self.settings.replicas):
                self._spawn(service, replica)
            for replica in range(self.settings.replicas):
                self._wait_ready(service, replica)

    def seed_demo(self) -> DemoSeed:
        """The demo tenant, created through identity unless a previous start made it."""
        self.demo = seed_demo_tenant(
            identity_addr=f"{self.settings.host}:{self.settings.grpc_port('identity')}",
            operator_token=self.operator_token(),
            data_dir=self.data_dir,
        )
        log.info("[%6.1fs] demo tenant %s", self.clock.elapsed(), self.demo.outcome)
        return self.demo

    def _spawn(self, service: str, replica: int = 0) -> None:
        name = replica_name(service, replica)
        process = ServiceProcess(
            service,
            self.env_for(service, replica),
            self.service_log(service, replica),
            python=self.python,
        )
        self._services.append(process)
        self._by_name[name] = process
        self.processes[name] = process.spawn()

    def _wait_ready(self, service: str, replica: int = 0) -> None:
        host = self.settings.host
        lane = self.lane(replica)
        ready: Callable[[], bool]
        if service in ("gateway", "web"):
            url = f"{lane.gateway_url if service == 'gateway' else lane.web_url}/readyz"
            ready = lambda: http_ready(url)  # noqa: E731
        else:
            port = lane.grpc_ports[service]
            ready = lambda: grpc_serving(host, port)  # noqa: E731
        self._by_name[replica_name(service, replica)].wait_ready(
            ready, self.settings.ready_timeout_seconds
        )

    def service_log(self, service: str, replica: int = 0) -> Path:
        return self.logs_dir / f"{replica_name(service, replica)}.log"

    def dead_services(self) -> dict[str, int]:
        return {
            name: code
            for name, process in self.processes.items()
            if (code := process.poll()) is not None
        }

    def wait(self, shutdown: threading.Event, poll_interval: float = 0.5) -> int:
        """Block until ``shutdown`` is set (0) or a service dies unexpectedly (1)."""
        while not shutdown.wait(poll_interval):
            if dead := self.dead_services():
                for name, code in dead.items():
                    log.error(
                        "%s exited unexpectedly with %s:\n%s",
                        name,
                        code,
                        log_tail(self.logs_dir / f"{name}.log"),
                    )
                return 1
        return 0

    def stop(self) -> None:
        """Services first (in parallel, SIGTERM then kill), then OpenBao, then NATS."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + SERVICE_STOP_TIMEOUT
        for name, process in self.processes.items():
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within %.0fs; killing it", name, SERVICE_STOP_TIMEOUT)
                process.kill()
                process.wait()
        self.processes.clear()
        for service in self._services:
            service.close_log()
        self._services.clear()
        self._by_name.clear()
        self.openbao.stop()
        self.nats.stop()
