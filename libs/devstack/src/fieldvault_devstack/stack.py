"""The local stack: nats-server, OpenBao and every service as its own process.

Used by ``python -m fieldvault_devstack run`` (``make run``) and by tests that
need the whole system. Starting twice with the same ``data_dir`` reuses
everything: JetStream store, OpenBao data and unseal key, SQLite files,
AppRole credentials and the operator token.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from fieldvault_devstack._process import log_tail, write_secret_file
from fieldvault_devstack.health import grpc_serving, http_ready
from fieldvault_devstack.nats import NatsServer
from fieldvault_devstack.openbao import OpenBaoServer, bootstrap_vault
from fieldvault_devstack.ports import ensure_port_free
from fieldvault_devstack.service_env import StackEndpoints, service_env
from fieldvault_devstack.settings import (
    DB_SERVICES,
    GRPC_SERVICES,
    VAULT_SERVICES,
    DevStackSettings,
)

log = logging.getLogger("fieldvault.dev")

SERVICE_READY_TIMEOUT = 30.0
MIGRATION_TIMEOUT = 120.0
SERVICE_STOP_TIMEOUT = 10.0


class StackError(RuntimeError):
    """The stack could not start or a service died; the message says which and why."""


class LocalStack:
    def __init__(self, settings: DevStackSettings, python: str = sys.executable) -> None:
        self.settings = settings
        self.python = python
        self.data_dir = settings.data_dir.resolve()
        self.logs_dir = self.data_dir / "logs"
        self.mail_dir = self.data_dir / "mail"
        self.operator_token_file = self.data_dir / "operator-token"
        self.credentials_dir = self.data_dir / "vault-credentials"
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
        self._log_handles: list[IO[bytes]] = []

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Everything, in dependency order; on any failure stop what was started."""
        try:
            self.start_infrastructure()
            self.run_migrations()
            self.start_services()
        except BaseException:
            self.stop()
            raise

    def start_infrastructure(self) -> StackEndpoints:
        """Ports, folders, NATS, OpenBao (unsealed, bootstrapped), operator token."""
        for setting_name, port in self.settings.ports().items():
            ensure_port_free(port, setting_name, self.settings.host)
        for folder in (self.data_dir, self.logs_dir, self.mail_dir):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.data_dir.chmod(0o700)  # holds the unseal key and credentials

        self.nats.start()
        self.openbao.start()
        credentials = bootstrap_vault(
            self.openbao.addr, self.openbao.root_token, self.credentials_dir, VAULT_SERVICES
        )
        self.endpoints = StackEndpoints(
            data_dir=self.data_dir,
            host=self.settings.host,
            nats_url=self.nats.url,
            vault_addr=self.openbao.addr,
            grpc_ports={service: self.settings.grpc_port(service) for service in GRPC_SERVICES},
            gateway_port=self.settings.gateway_port,
            vault_credentials=credentials,
            operator_token_sha256=self._operator_token_sha256(),
        )
        return self.endpoints

    def _operator_token_sha256(self) -> str:
        # Identity only ever sees the hash; the token itself stays in the file.
        if not self.operator_token_file.exists():
            write_secret_file(self.operator_token_file, secrets.token_urlsafe(32) + "\n")
        token = self.operator_token_file.read_text().strip()
        return hashlib.sha256(token.encode()).hexdigest()

    def env_for(self, service: str) -> dict[str, str]:
        if self.endpoints is None:
            raise StackError("start_infrastructure() must run before services get an environment")
        return service_env(service, self.endpoints)

    def run_migrations(self) -> None:
        # Migrations are their own step (never at service import), one process each.
        for service in DB_SERVICES:
            log.info("migrating %s", service)
            result = subprocess.run(
                [self.python, "-m", service, "migrate"],
                env=self.env_for(service),
                capture_output=True,
                timeout=MIGRATION_TIMEOUT,
                check=False,
            )
            if result.returncode != 0:
                raise StackError(
                    f"migrations of {service} failed with exit code {result.returncode}:\n"
                    f"{result.stderr.decode(errors='replace')[-4000:]}"
                )

    def start_services(self) -> None:
        # The gRPC services need only NATS, OpenBao and their own database, so
        # they start side by side; the gateway, whose readiness is theirs, last.
        for service in GRPC_SERVICES:
            self._spawn(service)
        for service in GRPC_SERVICES:
            self._wait_ready(service)
            log.info("%s is ready", service)
        self._spawn("gateway")
        self._wait_ready("gateway")
        log.info("gateway is ready")

    def _spawn(self, service: str) -> None:
        handle = self.service_log(service).open("ab")
        self._log_handles.append(handle)
        # Logs are appended across runs; a marker keeps the log tail we show unambiguous.
        handle.write(f"--- fieldvault-dev started {service} at {time.ctime()} ---\n".encode())
        handle.flush()
        # Own session: Ctrl-C reaches only the launcher, which stops services in order.
        self.processes[service] = subprocess.Popen(
            [self.python, "-m", service],
            env=self.env_for(service),
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def _wait_ready(self, service: str) -> None:
        host = self.settings.host
        ready: Callable[[], bool]
        if service == "gateway":
            url = f"http://{host}:{self.settings.gateway_port}/readyz"
            ready = lambda: http_ready(url)  # noqa: E731
        else:
            port = self.settings.grpc_port(service)
            ready = lambda: grpc_serving(host, port)  # noqa: E731
        process = self.processes[service]
        deadline = time.monotonic() + SERVICE_READY_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise StackError(
                    f"{service} exited with {process.returncode} while starting:\n"
                    f"{log_tail(self.service_log(service))}"
                )
            if ready():
                return
            time.sleep(0.2)
        raise StackError(
            f"{service} was not ready within {SERVICE_READY_TIMEOUT:.0f}s:\n"
            f"{log_tail(self.service_log(service))}"
        )

    def service_log(self, service: str) -> Path:
        return self.logs_dir / f"{service}.log"

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
                        log_tail(self.service_log(name)),
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
        for handle in self._log_handles:
            handle.close()
        self._log_handles.clear()
        self.openbao.stop()
        self.nats.stop()
