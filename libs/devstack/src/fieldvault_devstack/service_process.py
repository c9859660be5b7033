"""One fieldvault service as its own process: migrate, spawn, wait until ready.

Shared by the launcher (:class:`~fieldvault_devstack.stack.LocalStack`) and by
the pytest fixtures that need a real service beside the one under test, so a
service is started the same way everywhere: ``python -m <service> migrate``
as its own step, then ``python -m <service>`` with the environment of
:func:`~fieldvault_devstack.service_env.service_env`, logs appended to a file.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

from fieldvault_devstack._process import log_tail

MIGRATION_TIMEOUT = 120.0
SERVICE_READY_TIMEOUT = 30.0
SERVICE_STOP_TIMEOUT = 10.0


class StackError(RuntimeError):
    """The stack could not start or a service died; the message says which and why."""


def migrate(service: str, env: Mapping[str, str], *, python: str = sys.executable) -> None:
    """Run the service's Alembic migrations (never at service import), in a process of their own."""
    result = subprocess.run(
        [python, "-m", service, "migrate"],
        env=dict(env),
        capture_output=True,
        timeout=MIGRATION_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise StackError(
            f"migrations of {service} failed with exit code {result.returncode}:\n"
            f"{result.stderr.decode(errors='replace')[-4000:]}"
        )


class ServiceProcess:
    """``python -m <service>`` with its log appended to ``log_file``."""

    def __init__(
        self,
        service: str,
        env: Mapping[str, str],
        log_file: Path,
        *,
        python: str = sys.executable,
    ) -> None:
        self.service = service
        self.env = dict(env)
        self.log_file = log_file
        self.python = python
        self.process: subprocess.Popen[bytes] | None = None
        self._log_handle: IO[bytes] | None = None

    def spawn(self) -> subprocess.Popen[bytes]:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._log_handle = self.log_file.open("ab")
        # Logs are appended across runs; a marker keeps the log tail we show unambiguous.
        self._log_handle.write(
            f"--- fieldvault-dev started {self.service} at {time.ctime()} ---\n".encode()
        )
        self._log_handle.flush()
        # Own session: Ctrl-C reaches only the launcher, which stops services in order.
        self.process = subprocess.Popen(
            [self.python, "-m", self.service],
            env=self.env,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        return self.process

    def wait_ready(self, ready: Callable[[], bool], timeout: float = SERVICE_READY_TIMEOUT) -> None:
        """Poll ``ready`` until it holds; StackError (with the log tail) if the process dies."""
        if self.process is None:
            raise StackError(f"{self.service} was never started")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StackError(
                    f"{self.service} exited with {self.process.returncode} while starting:\n"
                    f"{log_tail(self.log_file)}"
                )
            if ready():
                return
            time.sleep(0.2)
        raise StackError(
            f"{self.service} was not ready within {timeout:.0f}s:\n{log_tail(self.log_file)}"
        )

    def close_log(self) -> None:
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None

    def stop(self, timeout: float = SERVICE_STOP_TIMEOUT) -> None:
        """SIGTERM, wait, then kill; for a single process (the stack stops its own in parallel)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.close_log()
